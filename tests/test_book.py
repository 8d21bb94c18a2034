"""The book (``make book``): it builds with no warning, stays offline, and every page works in a real browser.

The build is the Makefile's ``book`` target's command (``BUILD`` below). Every page of the built site is then
checked twice: statically (every link and anchor resolves, nothing is loaded from another host) and in headless
Chromium, the way a reader opens the site from disk (``file://``): no console error, no failed request and no
request leaving the site, math typeset by the bundled MathJax (no raw ``$$`` left), every figure of a notebook
present and decoded. One screenshot per page (JPEG; and one at the first figure of a notebook) goes to
``build/book-screenshots/`` (git-ignored) for a human to look at; ``BAYESKIT_BOOK_SCREENSHOTS=0`` skips them. (As PNG
they took about 15% of the browser test's time; a JPEG shot takes about a third as long as a PNG one, ~50 ms.)

The build needs the ``docs`` extra (``pip install -e ".[docs]"``; ``make`` installs it); the browser test also needs
Chromium and its driver from the system packages (Debian: ``apt-get install chromium chromium-driver``). Without
them the tests are skipped with that hint, unless ``BAYESKIT_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which turns
every such skip into a failure, so that CI cannot pass without running them.
"""

from __future__ import annotations

import importlib.util
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "build" / "book"
SCREENSHOTS = ROOT / "build" / "book-screenshots"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
# the Makefile's `book` target: -W turns warnings into errors, -E re-reads every source (an incremental build
# would not repeat the warnings of a page it did not re-read)
BUILD = [sys.executable, "-m", "sphinx", "-b", "html", "-c", "docs", "-W", "--keep-going", "-E", "-q", ".", str(BOOK)]
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    # the machine's network is closed: without these, Chromium's own background services try to reach their
    # hosts and log errors that are not the site's
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
]
PAGE_TIMEOUT_S = 60
SCREENSHOT_QUALITY = 85  # JPEG: legible text and figures, encoded about 3x faster than the PNG of save_screenshot
pytestmark = pytest.mark.timeout(1800)


def _missing_tools(browser: bool) -> list[str]:
    """What the build (and, with ``browser``, the browser test) needs and this machine lacks."""
    modules = ["sphinx", "myst_nb", "sphinx_book_theme", "sphinx-mathjax-offline"] + (["selenium"] if browser else [])
    missing = [f"the Python package {m} (pip install -e '.[docs]')" for m in modules
               if importlib.util.find_spec(m) is None]
    if browser and _chromium() is None:
        missing.append("Chromium (Debian: apt-get install chromium)")
    if browser and _chromedriver() is None:
        missing.append("its driver (Debian: apt-get install chromium-driver)")
    return missing


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _chromedriver() -> str | None:
    return shutil.which("chromedriver")


def _require_tools(browser: bool) -> None:
    missing = _missing_tools(browser)
    if not missing:
        return
    message = "the book's test needs " + "; ".join(missing)
    if os.environ.get("BAYESKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " (BAYESKIT_REQUIRE_BROWSER=1: not skipped)")
    pytest.skip(message)


# --- the build ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def book() -> Path:
    _require_tools(browser=False)
    start = time.perf_counter()
    if BOOK.exists():  # a fresh site: no page left over from a renamed notebook or module
        shutil.rmtree(BOOK)
    done = subprocess.run(
        BUILD, cwd=ROOT, capture_output=True, text=True, timeout=1200,
        env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        pytest.fail(f"make book failed (exit {done.returncode}) after {seconds:.0f} s:\n{done.stderr[-20000:]}")
    print(f"book built in {seconds:.0f} s")
    return BOOK


def _pages(book: Path) -> list[Path]:
    """Every page of the site (the theme's _static/*.html are template fragments, not pages)."""
    return sorted(p for p in book.rglob("*.html") if p.relative_to(book).parts[0] != "_static")


def _page_name(book: Path, page: Path) -> str:
    return page.relative_to(book).as_posix()


class _PageParser(HTMLParser):
    """Collects a page's ids, its links (<a href>) and what it makes the browser load (src, stylesheet href)."""

    LOADING_LINKS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut icon", "apple-touch-icon", "manifest"}

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (href, class)
        self.loads: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for key in ("id", "name"):
            if attributes.get(key):
                self.ids.add(attributes[key])
        if tag == "a" and attributes.get("href") is not None:
            self.links.append((attributes["href"], attributes.get("class") or ""))
        if tag == "link" and (attributes.get("rel") or "").lower() in self.LOADING_LINKS:
            self.loads.append(attributes.get("href") or "")
        if tag in {"script", "img", "iframe", "source", "video", "audio", "embed", "input", "track"}:
            if attributes.get("src"):
                self.loads.append(attributes["src"])
        if tag == "object" and attributes.get("data"):
            self.loads.append(attributes["data"])
        if attributes.get("style"):
            self.styles.append(attributes["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


_PARSED: dict[Path, _PageParser] = {}


def _parse(page: Path) -> _PageParser:
    if page not in _PARSED:
        parser = _PageParser()
        parser.feed(page.read_text(encoding="utf-8"))
        _PARSED[page] = parser
    return _PARSED[page]


REMOTE = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
CSS_LOADS = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)


def test_book_lists_every_notebook_and_solution(book: Path):
    """Every notebook and every worked solution has a page, and the landing page links each notebook
    (a glob that missed a new notebook, or a renamed file, would fail here)."""
    assert NOTEBOOKS, "no notebooks found"
    landing = _parse(book / "docs" / "index.html")
    targets = {urldefrag(href)[0] for href, _ in landing.links}
    for path in NOTEBOOKS + SOLUTIONS:
        page = book / path.relative_to(ROOT).with_suffix(".html")
        assert page.exists(), f"no page for {path.relative_to(ROOT)}"
    for path in NOTEBOOKS:
        assert f"../notebooks/{path.stem}.html" in targets, f"the landing page does not link {path.name}"
    # the site's root forwards to the landing page
    assert 'url=docs/index.html' in (book / "index.html").read_text(encoding="utf-8")


def test_nothing_is_loaded_from_another_host(book: Path):
    """No page or style sheet makes the browser load anything from a remote URL (fonts, scripts, MathJax): the
    site works offline. (Links a reader may click, e.g. to a paper, are fine; the browser test below also watches
    every request a page really makes, including those made by scripts.)"""
    remote = []
    for page in _pages(book):
        parsed = _parse(page)
        loads = list(parsed.loads)
        for style in parsed.styles:
            loads += [a or b for a, b in CSS_LOADS.findall(style)]
        remote += [f"{_page_name(book, page)}: {url}" for url in loads if REMOTE.match(url)]
    for sheet in book.rglob("*.css"):
        for a, b in CSS_LOADS.findall(sheet.read_text(encoding="utf-8", errors="replace")):
            if REMOTE.match(a or b):
                remote.append(f"{sheet.relative_to(book)}: {a or b}")
    assert not remote, "remote loads:\n" + "\n".join(remote)


def test_every_link_and_anchor_resolves(book: Path):
    """Every link of every page to the site itself (navigation, the notebooks' own cross-links, the API's
    references, the source downloads) points to a file that exists, and its #anchor to an id on that page."""
    broken = []
    for page in _pages(book):
        for href, _ in _parse(page).links:
            scheme = urlsplit(href).scheme
            if scheme in {"http", "https", "mailto", "javascript", "data"} or href.startswith("//"):
                continue
            assert scheme in {"", "file"}, f"{_page_name(book, page)}: unexpected link {href}"
            path_part, fragment = urldefrag(href)
            path_part = unquote(urlsplit(path_part).path)
            target = (page.parent / path_part).resolve() if path_part else page
            if target.is_dir():
                target = target / "index.html"
            if book.resolve() not in target.parents and target != book.resolve():
                broken.append(f"{_page_name(book, page)}: {href} leaves the site")
            elif not target.exists():
                broken.append(f"{_page_name(book, page)}: {href} (no such file)")
            elif fragment and target.suffix == ".html" and unquote(fragment) not in _parse(target).ids:
                broken.append(f"{_page_name(book, page)}: {href} (no #{fragment} there)")
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:100])


def _neighbours(book: Path, page: Path) -> tuple[str | None, str | None]:
    """The page's previous and next links (the theme's arrows at the bottom), as paths relative to the site."""
    found = {"left-prev": None, "right-next": None}
    for href, css in _parse(page).links:
        for key in found:
            if key in css.split():
                target = (page.parent / urldefrag(href)[0]).resolve()
                found[key] = target.relative_to(book.resolve()).as_posix()
    return found["left-prev"], found["right-next"]


def test_previous_and_next_follow_the_reading_order(book: Path):
    """The arrows at the bottom of each page walk the series in order: landing page, notebooks 01, 02, ..., then
    the worked solutions in the same order."""
    order = ["docs/index.html"] + [p.relative_to(ROOT).with_suffix(".html").as_posix() for p in NOTEBOOKS + SOLUTIONS]
    for before, after in zip(order, order[1:]):
        assert _neighbours(book, book / before)[1] == after, f"{before}: next should be {after}"
        assert _neighbours(book, book / after)[0] == before, f"{after}: previous should be {before}"


# --- in the browser -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    _require_tools(browser=True)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_AVOID_STATS", "true")
    profile = tempfile.mkdtemp(prefix="bayeskit-book-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = _chromium()
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(_chromedriver()))
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    driver.set_script_timeout(PAGE_TIMEOUT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _image_outputs(notebook: Path) -> int:
    """How many outputs of a notebook the book shows as an image: those with an image/* type and no richer one
    (the book prefers text/html, as Jupyter does)."""
    count = 0
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(k.startswith("image/") for k in data) and "text/html" not in data:
                count += 1
    return count


def _has_markdown_math(notebook: Path) -> bool:
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown" and re.search(r"\$[^$\s]", "".join(cell["source"])):
            return True
    return False


# Run in the page once MathJax has finished (or at once on a page without math): what the reader sees.
PAGE_FACTS = """
const done = arguments[arguments.length - 1];
const facts = () => {
  const hide = 'pre, code, script, style, mjx-container, mjx-assistive-mml';
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll(hide).forEach(e => e.remove());
  const main = document.querySelector('main') || document.body;
  return {
    url: location.href,
    text: clone.textContent,
    math: document.querySelectorAll('.math').length,
    untypeset: Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('mjx-container'))
        .map(e => e.textContent.slice(0, 80)),
    math_errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80)),
    images: Array.from(main.querySelectorAll('.cell_output img')).length,
    broken_images: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))
        .map(i => i.getAttribute('src')),
    first_figure: (() => { const i = main.querySelector('.cell_output img'); return i ? i.getBoundingClientRect().top + window.scrollY : null; })(),
  };
};
if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
  MathJax.startup.promise.then(() => done(facts()), err => done({...facts(), mathjax_failed: String(err)}));
} else {
  done(facts());
}
"""


def _requests(driver) -> tuple[list[str], list[str]]:
    """The requests the page made that left the site, and those that failed, from Chromium's network log."""
    remote, failed = [], []
    urls = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        method, params = message["method"], message.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            if urlsplit(url).scheme not in {"file", "data", "blob", "about"}:
                remote.append(url)
        elif method == "Network.loadingFailed":
            failed.append(f"{urls.get(params['requestId'], '?')}: {params.get('errorText')}")
        elif method == "Network.responseReceived" and params["response"].get("status", 200) >= 400:
            failed.append(f"{params['response']['url']}: HTTP {params['response']['status']}")
    return remote, failed


def _shot_name(name: str) -> str:
    return name.removesuffix(".html").replace("/", "__")


def _screenshot(driver, path: Path) -> None:
    """The visible part of the page as a JPEG (Chromium's own encoder, through the DevTools protocol)."""
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "jpeg", "quality": SCREENSHOT_QUALITY})
    path.write_bytes(base64.b64decode(shot["data"]))


# Whether the document the scripts now run in is the expected page (arguments[0], its path in the site), fully
# loaded. Waited for after every `get`: Chromium's driver sometimes returns from `get` before the new document has
# loaded (seen under load: the page's checks then ran on a document with no body yet), and the site's root forwards
# to the landing page by a meta refresh. One call in the page, so that the URL and the ready state are those of the
# same document.
LOADED = """const expected = arguments[0];
return decodeURIComponent(location.pathname).endsWith('/' + expected) && document.readyState === 'complete'
    && document.body !== null;"""


def test_every_page_works_in_a_browser(browser, book: Path):  # browser first: skip before building
    """Open every page of the site from disk, as a reader would, and check what a reader would see."""
    from selenium.webdriver.support.ui import WebDriverWait

    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    screenshots = os.environ.get("BAYESKIT_BOOK_SCREENSHOTS", "1") != "0"
    if screenshots:
        SCREENSHOTS.mkdir(parents=True)
    sources = {p.relative_to(ROOT).with_suffix(".html").as_posix(): p for p in NOTEBOOKS + SOLUTIONS}
    browser.get("about:blank")
    browser.get_log("browser"), browser.get_log("performance")  # the new-tab page's own entries
    problems: list[str] = []
    start = time.perf_counter()
    pages = _pages(book)
    for page in pages:
        name = _page_name(book, page)
        browser.get(page.as_uri())
        expected = "docs/index.html" if name == "index.html" else name  # the root forwards to the landing page
        WebDriverWait(browser, PAGE_TIMEOUT_S, poll_frequency=0.05).until(
            lambda d: d.execute_script(LOADED, expected), f"{name} did not finish loading")
        facts = browser.execute_async_script(PAGE_FACTS)
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        remote, failed = _requests(browser)
        found = []
        found += [f"console error: {m}" for m in errors]
        found += [f"remote request: {u}" for u in remote]
        found += [f"failed request: {u}" for u in failed]
        if facts.get("mathjax_failed"):
            found.append(f"MathJax failed: {facts['mathjax_failed']}")
        found += [f"math not typeset: {t!r}" for t in facts["untypeset"][:5]]
        found += [f"math error: {t!r}" for t in facts["math_errors"][:5]]
        for raw in ("$$", "\\(", "\\["):
            if raw in facts["text"]:
                i = facts["text"].index(raw)
                found.append(f"raw math delimiter {raw} in the text: {facts['text'][max(0, i - 40):i + 60]!r}")
        if re.search(r"\$\\[a-zA-Z]", facts["text"]):
            found.append("raw inline math ($\\...) in the text")
        found += [f"image not loaded: {src}" for src in facts["broken_images"]]
        if name in sources:
            expected = _image_outputs(sources[name])
            if facts["images"] != expected:
                found.append(f"{facts['images']} figures shown, the notebook has {expected}")
            if _has_markdown_math(sources[name]) and facts["math"] == 0:
                found.append("the notebook has math, the page none")
        if name == "index.html" and not facts["url"].endswith("/docs/index.html"):
            found.append(f"the root did not forward to the landing page (at {facts['url']})")
        if screenshots:
            _screenshot(browser, SCREENSHOTS / f"{_shot_name(name)}.jpg")
            if facts["first_figure"] is not None:
                browser.execute_script("window.scrollTo(0, arguments[0] - 120)", facts["first_figure"])
                _screenshot(browser, SCREENSHOTS / f"{_shot_name(name)}--first-figure.jpg")
        problems += [f"{name}: {p}" for p in found]
    where = f"screenshots in {SCREENSHOTS}" if screenshots else "no screenshots (BAYESKIT_BOOK_SCREENSHOTS=0)"
    print(f"{len(pages)} pages opened in {time.perf_counter() - start:.0f} s; {where}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:100])
