"""Plot helpers (bayeskit.plots)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bayeskit.plots import covariance_ellipse  # noqa: E402


def test_covariance_ellipse_lies_on_the_right_contour():
    mean, cov = np.array([1.0, -2.0]), np.array([[2.0, 0.9], [0.9, 0.5]])
    fig, ax = plt.subplots()
    line = covariance_ellipse(ax, mean, cov, n_sd=2.0)
    points = np.column_stack(line.get_data()) - mean
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", points, np.linalg.inv(cov), points), 4.0, rtol=1e-12)
    with pytest.raises(ValueError, match="2-D mean and a 2x2 covariance"):
        covariance_ellipse(ax, np.zeros(3), np.eye(3))
    plt.close(fig)
