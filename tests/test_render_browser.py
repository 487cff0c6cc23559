"""The HTML explorer in a real browser (issue 13): headless Chromium loads the page from
file:// without console errors, a click opens a scope, search selects the node and the
panel shows its file:line, the view buttons switch views, the wheel zooms, and a
10,000-node graph paints within 2 s. Skipped without selenium or chromedriver."""
from __future__ import annotations

import pathlib

import numpy as np
import pytest

pytest.importorskip("selenium")
import render_browser  # noqa: E402

if render_browser.find_browser() is None:
    pytest.skip("chromium or chromedriver is not installed", allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

import symgraph as sg  # noqa: E402
import render_zoo  # noqa: E402

PROBE_LINE = 0


@pytest.fixture(scope="module")
def driver():
    d = render_browser.start()
    yield d
    d.quit()


def _blocks(n: int = 30):
    """``n`` scoped blocks of tanh(h W); a node named ``probe`` deep inside block 25."""
    global PROBE_LINE
    h = sg.var("x", (None, 3))
    probe = None
    for k in range(n):
        with sg.scope(f"block{k}"):
            h = sg.tanh(h @ sg.param(np.eye(3), name=f"W{k}"))
            if k == 25:
                import inspect
                PROBE_LINE = inspect.currentframe().f_lineno + 1
                probe = h = sg.sin(h, name_="probe")
    return sg.sum(h), probe


def _open(driver, path: pathlib.Path) -> None:
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return window.symgraphExplorer.firstPaintMs") > 0
    assert render_browser.errors(driver) == []
    # nothing loaded beside the page itself: no script, style, font or image from anywhere
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0


def _count(driver, css: str) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, css))


def test_page_loads_clicks_open_scopes_search_selects_and_panel_shows_the_line(driver,
                                                                                tmp_path):
    loss, probe = _blocks()
    page = tmp_path / "blocks.html"
    sg.render(loss, str(page))
    _open(driver, page)
    closed = driver.find_elements(By.CSS_SELECTOR, ".item.group")
    assert closed, "a 30-scope graph opens with some scopes closed"
    nodes_before = _count(driver, ".item.node")
    group = closed[0].get_attribute("data-group")
    driver.execute_script(f"window.symgraphExplorer.centreOnGroup({int(group)})")  # pan to it
    closed[0].find_element(By.TAG_NAME, "rect").click()
    assert _count(driver, ".item.node") > nodes_before        # the scope opened
    assert _count(driver, "text.tab") >= 1                      # and shows a tab to close it

    box = driver.find_element(By.ID, "search")
    box.send_keys("probe", Keys.ENTER)
    selected = driver.find_elements(By.CSS_SELECTOR, ".item.selected")
    assert len(selected) == 1 and "probe" in selected[0].text
    panel = driver.find_element(By.ID, "panel").text
    assert f"test_render_browser.py:{PROBE_LINE}" in panel
    assert "sin" in panel and "float64 (?, 3)" in panel and "block25" in panel
    assert "gradient nodes" in panel and "after optimisation" in panel

    before = driver.find_element(By.ID, "world").get_attribute("transform")
    driver.execute_script("document.getElementById('canvas').dispatchEvent(new WheelEvent("
                          "'wheel', {deltaY: -300, clientX: 300, clientY: 300, bubbles: true,"
                          " cancelable: true}))")
    assert driver.find_element(By.ID, "world").get_attribute("transform") != before

    buttons = driver.find_elements(By.CSS_SELECTOR, "#views button")
    assert [b.text for b in buttons] == ["forward", "gradient", "optimized"]
    buttons[1].click()
    assert "on" in buttons[1].get_attribute("class")
    assert _count(driver, ".box.gradient") > 0 or _count(driver, ".item.group") > 0
    tab = driver.execute_script(                                  # a tab in sight
        "return Array.from(document.querySelectorAll('text.tab')).find(function (t) {"
        " var r = t.getBoundingClientRect(); return r.top > 45 && r.bottom < 850 &&"
        " r.left > 0 && r.right < 1060; })")
    if tab is not None:                                           # a tab closes its scope
        items = _count(driver, ".item")
        tab.click()
        assert _count(driver, ".item") < items
    assert render_browser.errors(driver) == []
    driver.save_screenshot(str(tmp_path / "explorer.png"))
    assert (tmp_path / "explorer.png").stat().st_size > 10_000


def test_hostile_names_stay_text(driver, tmp_path):
    x = sg.var("<img src=x onerror=alert(1)>\x1b[31m", (2,))
    y = sg.tanh(x, name_="</script><b>bold</b>")
    page = tmp_path / "hostile.html"
    sg.render(y, str(page))
    _open(driver, page)
    assert driver.find_elements(By.TAG_NAME, "img") == []
    assert driver.find_elements(By.TAG_NAME, "b") == []
    labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".item .label")]
    assert any("</script><b>bold</b>" in t for t in labels)


def test_ten_thousand_node_graph_paints_within_two_seconds(driver, tmp_path):
    x, _, loss, _ = render_zoo.random_graph()
    assert len(sg.Graph(loss)) >= 9_900
    page = tmp_path / "random.html"
    sg.render(loss, str(page))
    _open(driver, page)
    first_paint = driver.execute_script("return window.symgraphExplorer.firstPaintMs")
    assert first_paint < 2000, first_paint
    assert _count(driver, ".item") <= 80           # opened collapsed, level by level


def test_hundred_thousand_node_graph_opens_collapsed_and_level_by_level(driver, tmp_path):
    h = sg.var("x", (3,))
    for _ in range(100_000):
        h = sg.sin(h)
    page = tmp_path / "chain.html"
    sg.render(h, str(page), locations=False)
    _open(driver, page)
    assert _count(driver, ".item") <= 60 and _count(driver, ".item.node") <= 2
    block = driver.find_elements(By.CSS_SELECTOR, ".item.group")[0]
    driver.execute_script(f"window.symgraphExplorer.centreOnGroup("
                          f"{int(block.get_attribute('data-group'))})")
    before = _count(driver, ".item")
    block.find_element(By.TAG_NAME, "rect").click()
    assert _count(driver, ".item") > before                   # one level further down
    assert render_browser.errors(driver) == []
