"""Screenshots of the HTML explorer for docs/rendering.md, taken in headless Chromium.

    python docs/img/make_explorer_shots.py

Needs selenium and Debian's chromium + chromium-driver (the `browser` extra).
"""
from __future__ import annotations

import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

import symgraph as sg  # noqa: E402
import render_browser  # noqa: E402
import render_figures  # noqa: E402
import render_zoo  # noqa: E402


def shoot(driver, page: pathlib.Path, out: str, search: str = "", view: int = 0) -> None:
    driver.get(page.resolve().as_uri())
    if view:
        driver.find_elements(By.CSS_SELECTOR, "#views button")[view].click()
    if search:
        driver.find_element(By.ID, "search").send_keys(search, Keys.ENTER)
    assert render_browser.errors(driver) == []
    driver.save_screenshot(str(HERE / out))
    print(HERE / out)


def main() -> None:
    folder = pathlib.Path(tempfile.mkdtemp())
    J, _, names = render_figures._mlp_cost()
    sg.render(J, str(folder / "mlp.html"), names=names)
    x, y, loss, _ = render_zoo.deep_mlp()
    sg.render(loss, str(folder / "deep.html"))
    driver = render_browser.start(1280, 760)
    try:
        shoot(driver, folder / "mlp.html", "explorer_mlp.png", search="H")
        shoot(driver, folder / "mlp.html", "explorer_gradient.png", view=1, search="W2")
        shoot(driver, folder / "deep.html", "explorer_deep.png", search="layer17")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
