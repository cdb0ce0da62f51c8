"""The HTML stepper in a real headless Chromium, at a laptop's, a phone's and a projector's size.

Every step's text and highlighted node match the trace; every node of the graph is inside
the window at every step; the forward pass comes first; the slider, the anchors, the
keyboard, the buttons, the mode switch and the zoom work; the console stays clean.
One browser for the whole module (starting Chromium is the slow part).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
import pytest

import autograd_lite as ag

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else shutil.which("chromedriver")
IN_CI = bool(os.environ.get("CI"))

if not IN_CI and (CHROMIUM is None or CHROMEDRIVER is None or shutil.which("dot") is None):
    pytest.skip("needs chromium, chromedriver and Graphviz (CI installs them)", allow_module_level=True)
if not IN_CI:
    pytest.importorskip("selenium")

from selenium import webdriver  # noqa: E402 - after the skip checks
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES = [(1280, 800), (390, 844), (1920, 1080)]


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM is not None, "chromium is not installed (apt-get install chromium)"
    assert CHROMEDRIVER is not None, "chromedriver is not installed (apt-get install chromium-driver)"
    profile = tempfile.mkdtemp(prefix="autograd-lite-chromium-")
    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: Selenium Manager never downloads anything.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def set_viewport(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def sigmoid() -> ag.BackwardTrace:
    x = ag.Tensor(1.0, requires_grad=True, name="x")
    return ag.trace_backward(1 / (1 + ag.exp(-x)))


def two_by_two() -> ag.BackwardTrace:
    W = ag.Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, name="W")
    x = ag.Tensor([1.0, -2.0], requires_grad=True, name="x")
    return ag.trace_backward(ag.sigmoid(W @ x).sum())


def sine_chain(length: int) -> ag.BackwardTrace:
    """sin(sin(...sin(x))): a graph as long as asked."""
    y = ag.Tensor(0.5, requires_grad=True, name="x")
    for _ in range(length):
        y = ag.sin(y)
    return ag.trace_backward(y)


def open_page(driver, trace, tmp_path, name: str, anchor: str = "", **options) -> None:
    page = tmp_path / f"{name}.html"
    trace.to_html(page, **options)
    driver.get(page.as_uri() + anchor)


STATE = """
var graph = document.getElementById("graph");
var svg = Array.prototype.filter.call(graph.getElementsByTagName("svg"), function (s) {
    return !s.classList.contains("hidden"); })[0];
var prefix = svg.id === "graph-tall" ? "tb-" : "";
var current = svg.querySelectorAll("g.node.current");
var outside = [];
Array.prototype.forEach.call(svg.querySelectorAll("g.node"), function (g) {
    var r = g.getBoundingClientRect();
    if (r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5 || r.width === 0) {
        outside.push(g.id + " " + [r.left, r.top, r.right, r.bottom].map(Math.round).join(","));
    }
});
var x = document.getElementById(prefix + arguments[0]);
var texts = x ? x.getElementsByTagName("text") : [];
return {
    text: document.getElementById("step-text").textContent,
    phase: document.getElementById("phase").textContent,
    counter: document.getElementById("counter").textContent,
    current: Array.prototype.map.call(current, function (g) { return g.id.slice(prefix.length); }),
    currentLabel: current.length ? current[0].getElementsByTagName("text")[0].textContent : null,
    lastLine: texts.length ? texts[texts.length - 1].textContent : null,
    outside: outside,
    received: Array.prototype.map.call(svg.querySelectorAll("g.node.received"), function (g) {
        return g.id.slice(prefix.length); }),
    nodes: svg.querySelectorAll("g.node").length,
    hash: location.hash,
    slider: document.getElementById("slider").value,
    grids: Array.prototype.map.call(document.querySelectorAll("#grids td"), function (td) { return td.title; }),
};
"""


def shown(driver, key: str = "t0") -> dict:
    return driver.execute_script(STATE, key)


def errors_in(log: list[dict]) -> list[dict]:
    return [entry for entry in log if entry["level"] in ("SEVERE", "ERROR")]


def reverse_texts(trace) -> list[tuple[str, str, str | None]]:
    """(phase start, text, current op) of every step of the page in reverse mode, in order."""
    forward = [("Forward pass", text, f"n{position}") for position, text in enumerate(trace.forward_steps())]
    backward = [("Backward pass", step.describe(trace.root_label), f"n{step.position}") for step in trace.steps]
    return [*forward, *backward, ("Summary", trace.summary(), None)]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("example", [sigmoid, two_by_two])
def test_every_node_is_in_the_window_at_every_step_of_every_mode(browser, tmp_path, size, example) -> None:
    set_viewport(browser, *size)
    trace = example()
    open_page(browser, trace, tmp_path, example.__name__)
    expected = reverse_texts(trace)
    next_button = browser.find_element(By.ID, "next")
    for index, (phase, text, node) in enumerate(expected):
        state = shown(browser)
        assert state["outside"] == [], f"step {index + 1} at {size}"
        assert state["counter"] == f"Step {index + 1} of {len(expected)}"
        assert state["phase"].startswith(phase) and state["text"] == text
        assert state["current"] == ([node] if node else [])
        if index < len(expected) - 1:
            next_button.click()
    for mode in ("forward", "both"):
        browser.find_element(By.CSS_SELECTOR, f"#modes input[value={mode}]").click()
        body = browser.find_element(By.TAG_NAME, "body")
        total = int(shown(browser)["counter"].split()[-1])
        for index in range(total):
            state = shown(browser)
            assert state["outside"] == [], f"{mode} step {index + 1} at {size}"
            assert state["counter"] == f"Step {index + 1} of {total}"
            body.send_keys(Keys.ARROW_RIGHT)
    assert errors_in(browser.get_log("browser")) == []


def test_the_sigmoid_page_shows_the_forward_pass_first_then_the_numbers_plugged_in(browser, tmp_path) -> None:
    set_viewport(browser, 1280, 800)
    trace = sigmoid()
    open_page(browser, trace, tmp_path, "sigmoid")
    assert browser.find_element(By.ID, "previous").get_attribute("disabled") is not None
    state = shown(browser)
    assert state["phase"] == "Forward pass: op 1 of 4" and state["text"] == "Neg: v1 = -x = -1"
    assert state["lastLine"] == "grad ?"
    assert state["received"] == [trace.layout.entry(trace.layout.ops[0][1]).key]  # v1 just got its value
    body = browser.find_element(By.TAG_NAME, "body")
    texts = []
    for _ in range(8):
        texts.append(shown(browser)["text"])
        body.send_keys(Keys.ARROW_RIGHT)
    assert texts[1] == "Exp: v2 = exp(v1) = exp(-1) = 0.3679"
    assert "to v3: local d(1/v3)/dv3 = -1/v3² = -1/1.368² = -0.5344" in texts[4]  # names, then the numbers
    assert "upstream 1 × local -0.5344 = sent -0.5344" in texts[4]
    summary = shown(browser)
    assert summary["phase"].startswith("Summary") and summary["current"] == []
    assert "df/dx = dv4/dv3 · dv3/dv2 · dv2/dv1 · dv1/dx" in summary["text"]
    assert summary["text"].endswith("= (-0.5344) · 1 · 0.3679 · (-1) = 0.1966")
    assert summary["lastLine"] == "grad 0.1966"
    assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None
    body.send_keys(Keys.HOME)
    assert shown(browser)["counter"] == "Step 1 of 9"
    assert errors_in(browser.get_log("browser")) == []


def test_the_slider_and_the_anchors_pick_a_step(browser, tmp_path) -> None:
    set_viewport(browser, 1280, 800)
    trace = sigmoid()
    open_page(browser, trace, tmp_path, "anchors", anchor="#step-6")
    state = shown(browser)
    assert state["counter"] == "Step 6 of 9" and state["current"] == [f"n{trace.steps[1].position}"]
    assert state["slider"] == "6"
    browser.find_element(By.ID, "next").click()
    assert shown(browser)["hash"] == "#step-7"  # the address always names the step shown
    assert browser.find_element(By.ID, "permalink").get_attribute("href").endswith("#step-7")
    slider = browser.find_element(By.ID, "slider")
    slider.send_keys(Keys.END)  # the slider's own keys
    assert shown(browser)["counter"] == "Step 9 of 9"
    slider.send_keys(Keys.HOME)
    assert shown(browser)["counter"] == "Step 1 of 9"
    browser.execute_script("location.hash = '#forward-step-3'")
    state = shown(browser)
    assert state["counter"] == "Step 3 of 5" and state["text"].startswith("Add: v3 = 1 + v2")
    assert browser.find_element(By.CSS_SELECTOR, "#modes input[value=forward]").is_selected()
    assert state["lastLine"] == "tangent 1"  # x's tangent: this pass is along x
    browser.execute_script("location.hash = '#both-step-13'")  # 8 reverse steps, 4 forward, the comparison
    state = shown(browser)
    assert state["phase"] == "Both modes compared" and state["counter"] == "Step 13 of 13"
    assert errors_in(browser.get_log("browser")) == []


def test_forward_mode_pushes_a_tangent_through_each_op(browser, tmp_path) -> None:
    set_viewport(browser, 1920, 1080)
    trace = ag.trace_forward(lambda x, y: x * y + ag.sin(x), (2.0, 3.0), (1.0, 0.0))
    page = tmp_path / "forward.html"
    trace.to_html(page)
    browser.get(page.as_uri())
    assert browser.find_element(By.CSS_SELECTOR, "#modes input[value=forward]").is_selected()
    body = browser.find_element(By.TAG_NAME, "body")
    for step in trace.steps:
        state = shown(browser)
        assert state["text"] == step.describe(trace.direction) and state["current"] == [f"n{step.index}"]
        body.send_keys(Keys.ARROW_RIGHT)
    assert f"df/dx = {ag.teaching.viz.format_array(trace.tangent)}" in shown(browser)["text"]
    browser.find_element(By.CSS_SELECTOR, "#modes input[value=both]").click()
    body.send_keys(Keys.END)
    text = shown(browser)["text"]
    assert "reverse mode: 1 backward pass" in text and "forward mode: 1 pass (one per input element)" in text
    assert errors_in(browser.get_log("browser")) == []


def test_small_matrices_are_heat_maps_with_values_on_hover(browser, tmp_path) -> None:
    set_viewport(browser, 1280, 800)
    trace = two_by_two()
    open_page(browser, trace, tmp_path, "grids")
    W_cells = ["W (value) [0, 0] = 0.5", "W (value) [0, 1] = -1", "W (value) [1, 0] = 2", "W (value) [1, 1] = 0.25"]
    x_cells = ["x (value) [0] = 1", "x (value) [1] = -2"]
    assert shown(browser)["grids"] == [*W_cells, *x_cells, "v1 (value) [0] = 2.5", "v1 (value) [1] = 1.5"]
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
    titles = shown(browser)["grids"]
    gradient = trace.gradients["W"]
    assert f"df/dW [0, 1] = {ag.teaching.viz.format_number(gradient[0, 1], 6)}" in titles
    assert len(titles) == 4 + 2  # W's 2x2 and x's 2
    assert errors_in(browser.get_log("browser")) == []


def test_a_long_chain_is_zoomed_in_and_follows_the_step(browser, tmp_path) -> None:
    set_viewport(browser, 1280, 800)
    trace = sine_chain(40)
    open_page(browser, trace, tmp_path, "chain")
    body = browser.find_element(By.TAG_NAME, "body")
    visible = """
        var svg = document.querySelector("#graph svg:not(.hidden)");
        var current = svg.querySelector("g.node.current").getBoundingClientRect();
        var box = document.getElementById("graph").getBoundingClientRect();
        return [current.left >= box.left, current.right <= box.right, current.top >= box.top,
                current.bottom <= box.bottom, svg.getAttribute("viewBox")];
    """
    first = browser.execute_script(visible)
    for _ in range(50):
        state = browser.execute_script(visible)
        assert state[:4] == [True, True, True, True]
        body.send_keys(Keys.ARROW_RIGHT)
    assert browser.execute_script(visible)[4] != first[4]  # the view moved along
    browser.find_element(By.ID, "zoom-fit").click()
    fitted = browser.execute_script(visible)[4]
    browser.find_element(By.ID, "zoom-in").click()
    assert browser.execute_script(visible)[4] != fitted
    assert errors_in(browser.get_log("browser")) == []


def test_matrices_and_reuse_match_the_trace(browser, tmp_path) -> None:
    set_viewport(browser, 1280, 800)
    rng = np.random.default_rng(3)
    W = ag.Tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    v = ag.Tensor(rng.normal(size=4), requires_grad=True, name="v</script>")  # markup in a name is shown as text
    hidden = ag.tanh(W @ v)
    trace = ag.trace_backward((hidden * hidden + hidden).sum())
    open_page(browser, trace, tmp_path, "matrix")
    for phase, text, node in reverse_texts(trace):
        state = shown(browser, "t0")
        assert (
            state["phase"].startswith(phase) and state["text"] == text and state["current"] == ([node] if node else [])
        )
        browser.find_element(By.ID, "next").click()
    assert "accumulated" in "".join(step.describe() for step in trace.steps)
    assert errors_in(browser.get_log("browser")) == []


def test_steps_outside_the_drawn_window_say_so(browser, tmp_path) -> None:
    set_viewport(browser, 1280, 800)
    trace = sine_chain(6)
    open_page(browser, trace, tmp_path, "window", max_ops=3)  # only the last three ops (3, 4, 5) are drawn
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(6):  # the forward pass
        body.send_keys(Keys.ARROW_RIGHT)
    for step in trace.steps:
        state = shown(browser)
        assert state["text"] == step.describe(trace.root_label)
        note = browser.find_element(By.ID, "note").text
        if step.position >= 3:
            assert state["current"] == [f"n{step.position}"] and note == ""
        else:
            assert state["current"] == [] and "outside the drawn part" in note
        body.send_keys(Keys.ARROW_RIGHT)
    assert errors_in(browser.get_log("browser")) == []


def test_the_notebook_display_steps_inside_its_frame(browser, tmp_path) -> None:
    set_viewport(browser, 1280, 800)
    trace = sigmoid()
    notebook = tmp_path / "notebook.html"
    notebook.write_text(f"<!DOCTYPE html><html><body><h1>a notebook</h1>{trace._repr_html_()}</body></html>")
    browser.get(notebook.as_uri())
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        assert shown(browser)["text"] == trace.forward_steps()[0]
        for _ in range(8):
            browser.find_element(By.ID, "next").click()
        state = shown(browser)
        assert state["phase"].startswith("Summary") and state["lastLine"] == "grad 0.1966"
        assert state["outside"] == []  # the frame is the window: the graph fits it
    finally:
        browser.switch_to.default_content()
    assert errors_in(browser.get_log("browser")) == []
