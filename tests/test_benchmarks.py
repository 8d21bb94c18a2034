"""Evidence benchmarks with exact answers (bayeskit.models.benchmarks)."""

import numpy as np
import pytest
from scipy import integrate

import bayeskit as bk
from bayeskit.models.benchmarks import (gaussian_mixture, gaussian_shells, gaussian_shells_log_evidence,
                                       gaussian_shells_radius_pdf)


def test_shell_evidence_matches_published_values():
    # Feroz & Hobson (2008) print 2 decimals; d = 100 is a known misprint (see the data file's caveat)
    for row in bk.data.load("evidence_references")["gaussian_shells"]["values"]:
        if row["d"] < 100:
            assert gaussian_shells_log_evidence(row["d"]) == pytest.approx(row["logZ_published"], abs=0.006), row


def test_shell_evidence_matches_two_dimensional_quadrature():
    # Trapezoid rule on a 2-D grid with spacing 0.005 (the shell's width is 0.1): the integrand is
    # smooth and vanishes at the box's edges, so the rule converges exponentially (1e-9 here).
    problem = gaussian_shells(2)
    x = np.linspace(-6, 6, 2401)
    y = np.linspace(-2.6, 2.6, 1041)  # |y| <= 2.6 holds each shell plus 6 widths
    xx, yy = np.meshgrid(x, y, indexing="ij")
    density = np.exp(problem.log_likelihood(np.column_stack([xx.ravel(), yy.ravel()]))).reshape(xx.shape) / 144
    z = integrate.trapezoid(integrate.trapezoid(density, y, axis=1), x)
    assert gaussian_shells_log_evidence(2) == pytest.approx(np.log(z), abs=1e-6)
    # the radius density: its mean against the same 2-D grid's posterior mean of the distance to the nearer centre
    radius = np.minimum(np.hypot(xx + 3.5, yy), np.hypot(xx - 3.5, yy))
    grid_mean = integrate.trapezoid(integrate.trapezoid(density * radius, y, axis=1), x) / z
    r = np.linspace(1e-9, 3.5, 20001)
    assert integrate.trapezoid(r * gaussian_shells_radius_pdf(2, r), r) == pytest.approx(grid_mean, abs=1e-7)


@pytest.mark.parametrize("d", [2, 5, 10, 30])
def test_shell_radius_pdf_is_normalised(d):
    assert integrate.quad(lambda r: gaussian_shells_radius_pdf(d, r), 0, 4, epsabs=1e-12, points=[2.0])[0] == pytest.approx(1, abs=1e-9)


def test_mixture_evidence_and_weights():
    problem, exact = gaussian_mixture([[-3, 0], [3, 0]], [0.25, 0.75], sd=0.5, half_width=6)
    # Gauss-Legendre product rule, 200 nodes per axis on each half of the box (x in [-6, 0] and [0, 6], y in [-4, 4]):
    # the integrand is entire and its bumps (sd 0.5) span many nodes, so the rule's error is far below 1e-12
    # (doubling the nodes changes z by less than that, asserted below); one vectorised batch, not a point per call.
    def gauss_legendre_z(n):
        t, w = np.polynomial.legendre.leggauss(n)
        total = 0.0
        for lo in (-6.0, 0.0):
            x, wx = lo + 3 * (t + 1), 3 * w
            y, wy = 4 * t, 4 * w
            xx, yy = np.meshgrid(x, y, indexing="ij")
            density = np.exp(problem.log_likelihood(np.column_stack([xx.ravel(), yy.ravel()]))).reshape(xx.shape)
            total += wx @ density @ wy / 144
        return total

    z = gauss_legendre_z(200)
    assert abs(gauss_legendre_z(400) / z - 1) < 1e-12  # the quadrature itself has converged
    assert exact["log_evidence"] == pytest.approx(np.log(z), abs=1e-6)  # up to the mass outside the box, ~2e-9
    with pytest.raises(ValueError, match="inside the prior box"):
        gaussian_mixture([[5.5, 0]], [1.0], sd=0.5, half_width=6)
