"""The HTML stepper in a real headless Chromium: every step's text and highlighted node match the trace."""

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


def shown_state(driver) -> dict:
    return driver.execute_script(
        """
        var current = document.querySelectorAll("#graph g.node.current");
        var x = document.getElementById(arguments[0]);
        var texts = x ? x.getElementsByTagName("text") : [];
        return {
            text: document.getElementById("step-text").textContent,
            counter: document.getElementById("counter").textContent,
            current: Array.prototype.map.call(current, function (g) { return g.id; }),
            currentLabel: current.length ? current[0].getElementsByTagName("text")[0].textContent : null,
            xGrad: texts.length ? texts[texts.length - 1].textContent : null,
        };
        """,
        "t0",
    )


def errors_in(log: list[dict]) -> list[dict]:
    return [entry for entry in log if entry["level"] in ("SEVERE", "ERROR")]


def check_every_step(driver, trace, key) -> None:
    steps = trace.steps
    for index, step in enumerate(steps):
        state = shown_state(driver)
        assert state["counter"] == f"Step {index + 1} of {len(steps)}"
        assert state["text"] == step.describe(trace.root_label)
        assert state["current"] == [f"n{step.position}"]
        assert state["currentLabel"] == step.op
        if index < len(steps) - 1:
            key()


def test_stepping_through_the_sigmoid_page(browser, tmp_path) -> None:
    x = ag.Tensor(1.0, requires_grad=True, name="x")
    trace = ag.trace_backward(1 / (1 + ag.exp(-x)))
    page = tmp_path / "sigmoid.html"
    trace.to_html(page)
    browser.get(page.as_uri())
    assert browser.find_element(By.ID, "previous").get_attribute("disabled") is not None

    # the Next button, one step at a time
    check_every_step(browser, trace, lambda: browser.find_element(By.ID, "next").click())
    assert shown_state(browser)["xGrad"] == "grad 0.1966"  # x receives its gradient in the last step
    assert browser.find_element(By.ID, "next").get_attribute("disabled") is not None

    # back to the start with the Previous button: gradients not yet computed are shown as '?'
    for _ in trace.steps[1:]:
        browser.find_element(By.ID, "previous").click()
    state = shown_state(browser)
    assert state["current"] == [f"n{trace.steps[0].position}"] and state["xGrad"] == "grad ?"

    # the arrow keys do the same
    body = browser.find_element(By.TAG_NAME, "body")
    check_every_step(browser, trace, lambda: body.send_keys(Keys.ARROW_RIGHT))
    body.send_keys(Keys.ARROW_RIGHT)  # past the end: stays on the last step
    assert shown_state(browser)["counter"] == f"Step {len(trace)} of {len(trace)}"
    body.send_keys(Keys.ARROW_LEFT)
    assert shown_state(browser)["current"] == [f"n{trace.steps[-2].position}"]
    assert errors_in(browser.get_log("browser")) == []


def test_stepping_through_a_page_with_matrices_and_reuse(browser, tmp_path) -> None:
    rng = np.random.default_rng(3)
    W = ag.Tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    v = ag.Tensor(rng.normal(size=4), requires_grad=True, name="v</script>")  # markup in a name is shown as text
    hidden = ag.tanh(W @ v)
    trace = ag.trace_backward((hidden * hidden + hidden).sum())
    page = tmp_path / "matrix.html"
    trace.to_html(page)
    browser.get(page.as_uri())
    check_every_step(browser, trace, lambda: browser.find_element(By.ID, "next").click())
    assert "accumulated" in "".join(step.describe() for step in trace.steps)
    assert errors_in(browser.get_log("browser")) == []


def test_steps_outside_the_drawn_window_say_so(browser, tmp_path) -> None:
    x = ag.Tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(6):
        y = ag.sin(y)
    trace = ag.trace_backward(y)
    page = tmp_path / "window.html"
    trace.to_html(page, max_ops=3)  # only the last three ops (tape positions 3, 4, 5) are drawn
    browser.get(page.as_uri())
    for index, step in enumerate(trace.steps):
        state = shown_state(browser)
        assert state["text"] == step.describe(trace.root_label)
        note = browser.find_element(By.ID, "note").text
        if step.position >= 3:
            assert state["current"] == [f"n{step.position}"] and note == ""
        else:
            assert state["current"] == [] and "outside the drawn part" in note
        if index < len(trace) - 1:
            browser.find_element(By.ID, "next").click()
    assert errors_in(browser.get_log("browser")) == []
