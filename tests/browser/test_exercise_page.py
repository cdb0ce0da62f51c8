"""The exercises' side-by-side page in a real headless Chromium: the first diverging node is marked and clickable."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else shutil.which("chromedriver")

if not os.environ.get("CI") and (CHROMIUM is None or CHROMEDRIVER is None):
    pytest.skip("needs chromium and chromedriver (CI installs them)", allow_module_level=True)
if not os.environ.get("CI"):
    pytest.importorskip("selenium")

from selenium import webdriver  # noqa: E402 - after the skip checks
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

from autograd_lite.exercises import find  # noqa: E402
from autograd_lite.exercises.exercise import Case  # noqa: E402
from autograd_lite.exercises.page import side_by_side  # noqa: E402
from autograd_lite.ops import Matmul  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM is not None and CHROMEDRIVER is not None, "apt-get install chromium chromium-driver"
    profile = tempfile.mkdtemp(prefix="autograd-lite-exercise-chromium-")
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):  # fmt: skip
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)  # an explicit driver: no download
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class TransposedMatmul(Matmul):
    vjps = (lambda g, out, a, b: g @ b, Matmul.vjps[1])  # b's .T forgotten (square b, so no shape error)


def shown(driver) -> dict:
    return driver.execute_script(
        """
        return {
            diverging: Array.prototype.map.call(document.querySelectorAll("#graph g.node.diverging"),
                                                function (g) { return g.id; }),
            selected: Array.prototype.map.call(document.querySelectorAll("#graph g.node.selected"),
                                               function (g) { return g.id; }),
            detail: document.getElementById("detail").textContent,
            stroke: (function () { var r = document.querySelector("#graph g.node.diverging rect");
                                   return r ? getComputedStyle(r).strokeWidth : null; })(),
        };
        """
    )


def test_the_wrong_matmul_page_marks_its_node_and_shows_both_sides(browser, tmp_path: Path) -> None:
    a, b = np.arange(6.0).reshape(3, 2), np.array([[1.0, 2.0], [3.0, -1.0]])
    page = tmp_path / "matmul.html"
    page.write_text(side_by_side(find("matmul"), TransposedMatmul, Case((a, b), lambda x, y: x @ y), "transposed"))
    browser.get(page.as_uri())
    state = shown(browser)
    assert len(state["diverging"]) == 1
    node = state["diverging"][0]
    assert state["selected"] == [node]  # the page opens on the first diverging node
    assert state["detail"].startswith("Matmul: ") and "FIRST DIVERGING NODE" in state["detail"]
    assert "engine:" in state["detail"] and "yours:" in state["detail"]
    assert state["stroke"] == "4px"  # drawn thicker than the others
    assert "FIRST DIVERGING NODE" in browser.find_element(By.ID, f"row-{node}").text

    others = [g for g in browser.find_elements(By.CSS_SELECTOR, "#graph g.node") if g.get_attribute("id") != node]
    others[0].click()
    state = shown(browser)
    assert state["selected"] == [others[0].get_attribute("id")] and "same as the engine" in state["detail"]
    assert [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")] == []
