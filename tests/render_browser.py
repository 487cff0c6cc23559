"""Headless Chromium for the explorer's tests and docs screenshots (selenium; the driver
path is given explicitly so Selenium Manager never downloads one)."""
from __future__ import annotations

import os
import shutil
import tempfile

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None when either is missing."""
    driver = CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else shutil.which("chromedriver")
    browser = next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)
    return (browser, driver) if browser and driver else None


def start(width: int = 1400, height: int = 900):
    """A headless Chromium with a fresh profile and no background network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    browser, driver = find_browser()
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    profile = tempfile.mkdtemp(prefix="symgraph-chrome-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                f"--window-size={width},{height}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)


def errors(driver) -> list[dict]:
    """Console messages of level SEVERE since the last call."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
