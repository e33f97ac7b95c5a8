#!/usr/bin/python3
"""Drives `zenc ui` in headless Chromium for tests/e2e/t0900-ui.sh.

Uses only Debian's packages: chromium, chromium-driver (chromedriver) and
python3-selenium.  Checks what a person would see: the runs list with each
run's status, the status filter, and the failed run's page with the failed
step drawn in the failure colour, its error and its hook runs; keeps a
screenshot of that page.  Also checks that no page asks for anything
outside the dashboard (from Chromium's own network log).

usage: drive.py --base URL --profile DIR --screenshot FILE
         --completed ID --failed ID --running ID
         --step NAME --error TEXT --hook NAME
Exit 0 when every check passed; 1 with "FAIL: ..." otherwise.
"""

import argparse
import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

FAILED_FILL = "#d93025"


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)
    print("ok: " + what, flush=True)


def parse_args():
    p = argparse.ArgumentParser()
    for k in ("base", "profile", "screenshot", "completed", "failed",
              "running", "step", "error", "hook"):
        p.add_argument("--" + k, required=True)
    return p.parse_args()


class Browser:
    """Chromium through chromedriver, with its network log read back."""

    def __init__(self, base, profile):
        self.base = base
        opts = webdriver.ChromeOptions()
        opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for a in ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-quic", "--no-first-run",
                  "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,900",
                  "--user-data-dir=" + profile):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        service = Service(os.environ.get("CHROMEDRIVER",
                                         "/usr/bin/chromedriver"))
        self.d = webdriver.Chrome(service=service, options=opts)
        self.d.set_page_load_timeout(30)
        self.foreign = []
        self.status = {}
        # What the browser loaded on its own before the first page (its new
        # tab page) is not the dashboard's doing.
        self.d.get_log("performance")

    def drain_log(self):
        """Reads Chromium's network events: every request's URL, and the
        HTTP status of each document."""
        for entry in self.d.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            params = msg.get("params", {})
            if msg.get("method") == "Network.requestWillBeSent":
                # Every request a dashboard page makes, or that leads to one.
                url = params["request"]["url"]
                doc = params.get("documentURL", "")
                if (url.startswith(self.base) or doc.startswith(self.base)) \
                        and not url.startswith(self.base) \
                        and not url.startswith("data:"):
                    self.foreign.append(url)
            elif msg.get("method") == "Network.responseReceived":
                r = params["response"]
                self.status[r["url"]] = r["status"]

    def goto(self, url):
        self.d.get(url)
        self.drain_log()
        return self.status.get(url)

    def click_and_wait(self, element):
        """Clicks an element that loads a new page, and waits for it."""
        old = self.d.find_element(By.TAG_NAME, "html")
        element.click()
        WebDriverWait(self.d, 15).until(EC.staleness_of(old))
        WebDriverWait(self.d, 15).until(
            lambda d: d.execute_script("return document.readyState")
            == "complete")
        self.drain_log()

    def all(self, css):
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def one(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)


def main():
    a = parse_args()
    b = Browser(a.base, a.profile)
    try:
        run_checks(a, b)
    finally:
        b.d.quit()


def run_checks(a, b):
    # The runs list: the three runs, each with its status.
    check(b.goto(a.base + "/") == 200, "runs list answers 200")
    rows = [{
        "id": tr.get_attribute("data-run"),
        "status": tr.get_attribute("data-status"),
        "badge": tr.find_element(By.CSS_SELECTOR, ".badge").text.strip(),
    } for tr in b.all("tr.run")]
    for rid, want in ((a.completed, "completed"), (a.failed, "failed"),
                      (a.running, "running")):
        row = next((r for r in rows if r["id"] == rid), None)
        check(row is not None, "runs list shows run %s" % rid)
        check(row["status"] == want and row["badge"] == want,
              "run %s is shown %s (shown: %s/%s)"
              % (rid, want, row["status"], row["badge"]))
    order = [r["id"] for r in rows]
    check(order.index(a.running) < order.index(a.failed)
          < order.index(a.completed), "runs are listed newest first")

    # Filter by status through the form.
    Select(b.one("select[name=status]")).select_by_visible_text("failed")
    b.click_and_wait(b.one("form.filter button[type=submit]"))
    filtered = [tr.get_attribute("data-status") for tr in b.all("tr.run")]
    check(len(filtered) >= 1 and all(s == "failed" for s in filtered),
          "status filter shows failed runs only (%s)" % ",".join(filtered))

    # The failed run's page, reached by clicking its link.
    b.goto(a.base + "/")
    b.click_and_wait(b.one('tr.run[data-run="%s"] td a' % a.failed))
    check(b.d.current_url == "%s/runs/%s" % (a.base, a.failed),
          "the run link leads to /runs/%s" % a.failed)
    nodes = b.all('svg.dag g.node[data-step="%s"]' % a.step)
    check(len(nodes) == 1, "the DAG draws step %s" % a.step)
    node = nodes[0]
    check(node.get_attribute("data-status") == "failed",
          "step %s is drawn failed" % a.step)
    rect = node.find_element(By.CSS_SELECTOR, "rect")
    fill = rect.get_attribute("fill")
    check(fill == FAILED_FILL, "step %s is %s (is %s)"
          % (a.step, FAILED_FILL, fill))
    rendered = b.d.execute_script(
        "return getComputedStyle(arguments[0]).fill", rect)
    check(rendered == "rgb(217, 48, 37)",
          "step %s renders red (computed fill %s)" % (a.step, rendered))
    title = b.d.execute_script(
        "return arguments[0].querySelector('title').textContent", node)
    check(a.error in title, "the node's tooltip holds the error: " + title)
    edges = len(b.all("svg.dag g.edges path"))
    check(edges >= 2, "the DAG draws its edges (%d)" % edges)

    section = b.one('section.step[data-step="%s"]' % a.step)
    err_text = b.d.execute_script(
        "return arguments[0].querySelector('pre.step-error').textContent",
        section)
    check(a.error in err_text, "the step shows its error: " + err_text)
    hooks = [tr.text for tr in
             section.find_elements(By.CSS_SELECTOR, "table.hooks tr.hook")]
    check(any(a.hook in h and "on_failure" in h for h in hooks),
          "the step shows its on_failure hook run %s: %s"
          % (a.hook, " | ".join(hooks)))
    check(len(b.all("meta[http-equiv=refresh]")) == 0,
          "a finished run's page does not refresh itself")

    # The whole page, not only the window.
    height = b.d.execute_script(
        "return document.documentElement.scrollHeight")
    b.d.set_window_size(1280, max(900, min(int(height) + 100, 8000)))
    check(b.d.save_screenshot(a.screenshot), "screenshot saved")
    print("screenshot: " + a.screenshot)

    # The running run's page refreshes itself every 2 s.
    check(b.goto("%s/runs/%s" % (a.base, a.running)) == 200,
          "running run page answers 200")
    metas = b.all("meta[http-equiv=refresh]")
    refresh = metas[0].get_attribute("content") if metas else None
    check(refresh == "2",
          "a running run's page refreshes every 2 s (%s)" % refresh)
    running = len(b.all("svg.dag g.node[data-status=running]"))
    check(running >= 1, "the running run draws a running step")

    b.drain_log()
    check(not b.foreign,
          "no request leaves the dashboard (%s)" % ", ".join(b.foreign))


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        print("FAIL: %s" % e)
        sys.exit(1)
    except Exception as e:  # a browser that does not start, a timeout
        print("FAIL: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
