#!/usr/bin/env python3
"""The web console in headless Chromium (Debian's chromium and chromedriver,
driven by python3-selenium): the overview shows the controller leader and
the broker the REST API reports, the topic list shows a topic created over
REST with the bytes its partitions hold on disk (so does the topic page, per
partition), the message browser shows a record a Kafka client produced (a value
with markup is shown as text, never run), the produce form writes a record
that the REST API then reads at the offset the page reported, and the group
page shows the lag that GET /v1/groups/{id} reports. Screenshots go to
build/test-artifacts/console/."""

import os
import shutil
import tempfile

from dmqtest import BINARY, Workdir, run, wait_until
from share_common import create_topic

ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(BINARY)), "test-artifacts", "console")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1100"]


def browser(profile_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile_dir}"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def open_page(driver, node, fragment):
    """Loads a console page and waits until it rendered from the API."""
    driver.get(f"{node.url}/ui#{fragment}")
    wait_until(lambda: driver.execute_script("return document.body.dataset.loaded") == f"#{fragment}",
               20, what=f"page {fragment} rendered")


def text_of(driver, element_id):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.ID, element_id).text


def screenshot(driver, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    driver.save_screenshot(os.path.join(ARTIFACTS, name))


def test_console_pages_show_what_the_api_reports():
    from confluent_kafka import Consumer, Producer, TopicPartition
    from selenium.webdriver.common.by import By
    with Workdir() as w:
        node = w.node().start()
        wait_until(lambda: any(b["status"] == "alive" for b in node.get("/v1/brokers")[1]["brokers"]),
                   20, what="the broker registered")
        create_topic(node, "orders", 2)
        p = Producer({"bootstrap.servers": node.kafka, "acks": "all"})
        p.produce("orders", key=b"k0", value=b"hello from kafka", partition=1)
        p.produce("orders", key=b"evil", value=b"<img id=injected src=x onerror=alert(1)>", partition=1)
        for i in range(8):
            p.produce("orders", value=f"m{i}".encode(), partition=1)
        assert p.flush(30) == 0
        # A group that committed offset 4 on partition 1: lag 6 there.
        c = Consumer({"bootstrap.servers": node.kafka, "group.id": "g1", "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition("orders", 1, 4)], asynchronous=False)
        c.close()

        profile = tempfile.mkdtemp(prefix="dmq-chromium-")
        driver = browser(profile)
        try:
            open_page(driver, node, "/")
            cluster = node.get("/v1/cluster")[1]
            assert text_of(driver, "leader") == str(cluster["leader_id"])
            brokers = text_of(driver, "brokers")
            assert "alive" in brokers and node.kafka in brokers, brokers
            # The live charts sample /metrics: records produced now show as a produce rate.
            p.produce("orders", value=b"x" * 1000, partition=0)
            assert p.flush(30) == 0
            wait_until(lambda: driver.execute_script("return Math.max(0, ...rates('produce'))") > 0,
                       15, interval_s=0.5, what="a produce rate on the chart")
            screenshot(driver, "overview.png")

            open_page(driver, node, "/topics")
            rows = text_of(driver, "topic-list")
            assert "orders" in rows, rows
            # The bytes the node holds for the topic: the sum of the REST sizes.
            sizes = [p["size_bytes"] for p in node.get("/v1/topics/orders")[1]["partitions"]]
            assert all(s > 0 for s in sizes), sizes
            assert f"{sum(sizes):,}" in rows, (sizes, rows)
            screenshot(driver, "topics.png")

            open_page(driver, node, "/topic/orders?p=1&o=0")
            wait_until(lambda: driver.find_elements(By.ID, "records"), 10, what="the records table")
            records = text_of(driver, "records")
            assert "hello from kafka" in records and "k0" in records, records
            # Each partition's size on disk, as GET /v1/topics/{t} reports it.
            partitions = text_of(driver, "partitions")
            for part in node.get("/v1/topics/orders")[1]["partitions"]:
                assert f"{part['size_bytes']:,}" in partitions, (part, partitions)
            # Markup in a value is text on the page, not an element.
            assert "<img id=injected" in records, records
            assert not driver.find_elements(By.ID, "injected"), "a record value became HTML"
            screenshot(driver, "browser.png")

            # The produce form writes a record; the REST API reads it where the page said.
            form = driver.find_element(By.ID, "produce-result").find_element(By.XPATH, "..")
            form.find_element(By.NAME, "key").send_keys("from-console")
            form.find_element(By.NAME, "value").send_keys("typed in the console")
            form.find_element(By.CSS_SELECTOR, "select[name=partition] option[value='0']").click()
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait_until(lambda: "offset" in text_of(driver, "produce-result"), 10, what="the produce answer")
            said = text_of(driver, "produce-result")
            assert said == "written to partition 0 at offset 1", said
            status, body = node.get("/v1/topics/orders/partitions/0/records?offset=1")
            assert status == 200 and body["records"][0]["value"] == "typed in the console", body

            open_page(driver, node, "/group/g1")
            group = node.get("/v1/groups/g1")[1]
            api_lag = sum(o.get("lag") or 0 for o in group["offsets"])
            assert api_lag == 6, group
            assert text_of(driver, "group-lag-total") == str(api_lag)
            assert "orders" in text_of(driver, "group-offsets")
            screenshot(driver, "group.png")
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)


def test_console_files_are_served_with_a_strict_policy():
    from dmqtest import http
    import urllib.request
    with Workdir() as w:
        node = w.node().start()
        for path, kind in (("/", "text/html"), ("/ui/app.js", "text/javascript"), ("/ui/style.css", "text/css")):
            with urllib.request.urlopen(node.url + path, timeout=5) as r:
                assert r.status == 200
                assert r.headers["Content-Type"].startswith(kind), (path, r.headers["Content-Type"])
                assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        status, body = http("GET", node.url + "/ui/nothing.js")
        assert status == 404 and body["error"]["code"] == "not_found", body


if __name__ == "__main__":
    run([test_console_pages_show_what_the_api_reports,
         test_console_files_are_served_with_a_strict_policy])
