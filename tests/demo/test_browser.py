"""End to end in Debian's chromium, driven by Playwright, against ``python -m examples.search_as_you_type``.

The app runs as its own process on a free port of 127.0.0.1, as a user
would start it; searches are counted by the server (``/api/stats``).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from examples.search_as_you_type import normalise

from ._process import ROOT, demo_process

playwright = pytest.importorskip("playwright.async_api")

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def demo_server(*args: str) -> Iterator[str]:
    """Start the demo on a free port; yield its URL; stop it."""
    with demo_process(*args) as (_, url, _lines):
        yield url


async def stats(url: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as session, session.get(url + "/api/stats") as response:
        data: dict[str, int] = await response.json()
        return data


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with demo_server() as url:
        yield url


@pytest.fixture(scope="module")
def slow_server() -> Iterator[str]:
    with demo_server("--latency", "0.6") as url:
        yield url


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    """A fresh chromium and page per test (Playwright's loop is the test's loop)."""
    if not HAVE_CHROMIUM:
        pytest.skip("Debian's chromium is not installed (bash scripts/system-deps.sh chromium)")
    async with playwright.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 820}, device_scale_factor=1)
            dialogs: list[str] = []

            async def on_dialog(dialog: Any) -> None:
                dialogs.append(dialog.message)
                await dialog.dismiss()

            page.on("dialog", on_dialog)
            yield page
            assert dialogs == [], "a dialog opened: something in the page executed"
        finally:
            await browser.close()


async def open_page(page: Any, url: str) -> Any:
    await page.goto(url + "/")
    await page.wait_for_selector("#link.live")
    return page.locator("#q")


async def first_result(page: Any) -> str | None:
    result: str | None = await page.evaluate(
        "() => { const li = document.querySelector('#results li'); return li ? li.dataset.name : null; }"
    )
    return result


async def test_browser_typing_lond_shows_london_first_within_a_second(page: Any, server: str) -> None:
    box = await open_page(page, server)
    await box.focus()
    rng = random.Random(6)
    for ch in "lond":
        await page.keyboard.type(ch)
        await asyncio.sleep(
            rng.uniform(0.12, 0.28)
        )  # a person typing, pauses shorter and longer than the debounce
    last_key = time.monotonic()
    await page.wait_for_function(
        "() => document.body.dataset.state === 'results' && document.querySelector('#results').dataset.q === 'lond'",
        timeout=5_000,
    )
    elapsed = time.monotonic() - last_key
    assert await first_result(page) == "London"
    assert elapsed < 1.0, f"London showed {elapsed:.3f}s after the last key"
    assert await page.locator("#results li").first.locator("mark").inner_text() == "Lond"
    assert "London first" in await page.locator("#status").inner_text()
    assert await page.locator("#status").get_attribute("aria-live") == "polite"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "search_as_you_type.png"), full_page=True)
    # keyboard: down twice, up once, Enter chooses the first result
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowUp")
    assert await box.get_attribute("aria-activedescendant") == "result-0"
    assert await page.locator("#result-0").get_attribute("aria-selected") == "true"
    await page.keyboard.press("Enter")
    assert "London" in await page.locator("#chosen").inner_text()
    await page.keyboard.press("Escape")
    assert await box.input_value() == ""
    await page.wait_for_function("() => document.querySelectorAll('#results li').length === 0")


async def test_browser_two_workers_as_make_demo_runs_them_on_two_cores(page: Any) -> None:
    # `make demo` runs --workers auto (two processes on this machine's two cores): the page, its
    # WebSocket and the typo tier work the same through either worker
    with demo_server("--workers", "2") as url:
        box = await open_page(page, url)
        for typed, expected in (("lond", "London"), ("lodnon", "London"), ("北京", "Beijing")):
            await box.fill(typed)
            await page.wait_for_function(
                "q => document.body.dataset.state === 'results' && document.querySelector('#results').dataset.q === q",
                arg=normalise(typed),
                timeout=10_000,
            )
            assert await first_result(page) == expected, typed


async def test_browser_fast_typing_sends_at_most_two_searches(page: Any, server: str) -> None:
    box = await open_page(page, server)
    await box.focus()
    before = (await stats(server))["searches_started"]
    await page.keyboard.type("amsterdam", delay=35)
    await page.wait_for_function(
        "() => document.body.dataset.state === 'results' && document.querySelector('#results').dataset.q === 'amsterdam'",
        timeout=5_000,
    )
    assert await first_result(page) == "Amsterdam"
    await asyncio.sleep(0.3)  # let anything late arrive before counting
    assert (await stats(server))["searches_started"] - before <= 2


@pytest.mark.parametrize(("typed", "expected"), [("北京", "Beijing"), ("sao paulo", "São Paulo")])
async def test_browser_other_scripts_and_accents(page: Any, server: str, typed: str, expected: str) -> None:
    box = await open_page(page, server)
    await box.focus()
    await page.keyboard.insert_text(typed)  # as an input method would
    await page.wait_for_function(
        f"() => document.body.dataset.state === 'results' && document.querySelector('#results').dataset.q === {json.dumps(normalise(typed))}",
        timeout=5_000,
    )
    assert await first_result(page) == expected


RECORDER = """() => {
  window.__seen = [];
  const box = document.getElementById('q'), list = document.getElementById('results');
  const note = () => window.__seen.push(
      {state: document.body.dataset.state, shown: list.dataset.q, box: box.value, n: list.children.length});
  new MutationObserver(note).observe(document.body, {attributes: true, subtree: true, childList: true, characterData: true});
  box.addEventListener('input', note);  // after the app's own listener
}"""


async def test_browser_random_latency_never_shows_results_for_another_query(
    page: Any, slow_server: str
) -> None:
    box = await open_page(page, slow_server)
    await box.focus()
    await page.evaluate(RECORDER)
    rng = random.Random(42)
    script = ["par", "paris", "\b\b", "ma", "\b\b\b\b\b", "madrid", "\b\b\b\b\b\b", "lisbon", "\b\b", "ma"]
    for chunk in script:
        for ch in chunk:
            if ch == "\b":
                await page.keyboard.press("Backspace")
            else:
                await page.keyboard.type(ch)
            await asyncio.sleep(rng.choice([0.02, 0.05, 0.2, 0.35, 0.7]))
    final = normalise(await box.input_value())
    await page.wait_for_function(
        f"() => ['results', 'empty'].includes(document.body.dataset.state) && document.querySelector('#results').dataset.q === {json.dumps(final)}",
        timeout=5_000,
    )
    seen: list[dict[str, Any]] = await page.evaluate("window.__seen")
    settled = [s for s in seen if s["state"] in ("results", "empty")]
    assert len(settled) >= 3, seen  # several answers were shown along the way...
    for snapshot in settled:  # ...and each one answered what was in the box at that moment
        assert snapshot["shown"] == normalise(snapshot["box"]), snapshot
    assert (await stats(slow_server))["searches_aborted"] >= 1  # typing on aborted a request in flight


async def test_browser_html_and_script_in_the_query_are_shown_as_text(page: Any, server: str) -> None:
    box = await open_page(page, server)
    await box.focus()
    payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
    await page.keyboard.insert_text(payload)
    await page.wait_for_function("() => document.body.dataset.state === 'empty'", timeout=5_000)
    assert payload in await page.locator("#status").inner_text()
    assert await page.evaluate("window.__pwned") is None
    assert await page.locator("#status img, #status script, #results img").count() == 0


async def test_browser_10kb_query_is_rejected_with_a_clear_message(page: Any, server: str) -> None:
    await open_page(page, server)
    await page.evaluate(
        "() => { const box = document.getElementById('q'); box.value = 'x'.repeat(10240);"
        " box.dispatchEvent(new Event('input')); }"
    )
    await page.wait_for_function("() => document.body.dataset.state === 'error'", timeout=5_000)
    assert "query too long: 10,240 characters; the limit is 200" in await page.locator("#status").inner_text()
    assert await page.locator("#q").get_attribute("maxlength") == "200"  # typing and pasting stop at 200


# -- issue 12: offline, layout, keyboard, a cut paste; screenshots at two sizes, light and dark --


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not HAVE_CHROMIUM:
        pytest.skip("Debian's chromium is not installed (bash scripts/system-deps.sh chromium)")
    async with playwright.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def sized_page(browser: Any, width: int, height: int, scheme: str = "light") -> Any:
    context = await browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=1, color_scheme=scheme
    )
    return await context.new_page()


async def wait_results(page: Any, q: str) -> None:
    await page.wait_for_function(
        f"() => document.body.dataset.state === 'results' && document.querySelector('#results').dataset.q === {json.dumps(q)}",
        timeout=8_000,
    )


RECT = "(sel) => { const r = document.querySelector(sel).getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


PLACEHOLDER_FITS = """() => {
  const box = document.getElementById('q'), style = getComputedStyle(box);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [ctx.measureText(box.placeholder).width, room];
}"""


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_browser_layout_at_both_sizes_light_and_dark(
    browser: Any, server: str, width: int, height: int, scheme: str
) -> None:
    page = await sized_page(browser, width, height, scheme)
    await open_page(page, server)
    text, room = await page.evaluate(PLACEHOLDER_FITS)
    assert text <= room, f"the placeholder is clipped: {text:.0f}px of text in {room:.0f}px"
    assert not overlap(await page.evaluate(RECT, ".spinner"), await page.evaluate(RECT, "#link"))
    await page.locator("#q").focus()
    await page.keyboard.type("lond")
    await wait_results(page, "lond")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"demo_{width}x{height}_{scheme}_results.png"))
    await page.keyboard.press("Enter")  # nothing selected: the first result
    assert await page.locator("#q").input_value() == "London"
    assert "London" in await page.locator("#chosen").inner_text()
    chosen = await page.evaluate(RECT, "#chosen")
    assert chosen[3] <= height, f"the chosen panel ends at {chosen[3]}px, below the fold ({height}px)"
    await page.screenshot(path=str(ARTIFACTS / f"demo_{width}x{height}_{scheme}_chosen.png"))


async def test_browser_tab_goes_to_the_results_and_enter_there_chooses(page: Any, server: str) -> None:
    box = await open_page(page, server)
    await box.focus()
    await page.keyboard.type("berl")
    await wait_results(page, "berl")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "results"
    await page.keyboard.press("ArrowDown")
    second = await page.locator("#result-1").get_attribute("data-name")
    await page.keyboard.press("Enter")
    assert await box.input_value() == second
    assert await page.evaluate("document.activeElement.id") == "q"


async def test_browser_a_long_paste_says_it_was_cut(page: Any, server: str) -> None:
    box = await open_page(page, server)
    await box.focus()
    await page.evaluate(
        "() => { const data = new DataTransfer(); data.setData('text/plain', 'lond' + 'x'.repeat(4996));"
        " document.getElementById('q').dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true})); }"
    )
    await page.keyboard.insert_text("lond" + "x" * 4996)  # what the browser then does, cut by maxlength
    assert len(await box.input_value()) == 200
    await page.wait_for_function(
        "() => ['empty', 'results'].includes(document.body.dataset.state)", timeout=8_000
    )
    status = await page.locator("#status").inner_text()
    assert "Pasted text cut to 200 characters (it had 5,000)." in status
    assert len(status) < 200, status  # the query is quoted short (80 characters), not echoed whole


@pytest.mark.slow
async def test_browser_offline_says_so_and_searches_on_reconnect(page: Any) -> None:
    with demo_process() as (proc, url, _):
        box = await open_page(page, url)
        port = url.rsplit(":", 1)[1]
        proc.send_signal(2)  # SIGINT: the server goes away
        await asyncio.to_thread(proc.wait, 10)
        await page.wait_for_selector("#link.down", timeout=5_000)
        await box.focus()
        await page.keyboard.type("lond")
        await page.wait_for_function("() => document.body.dataset.state === 'offline'", timeout=3_000)
        status = await page.locator("#status").inner_text()
        assert "Offline" in status
        assert "as soon as it reconnects" in status
        spinner = await page.evaluate("getComputedStyle(document.querySelector('.spinner')).opacity")
        assert spinner == "0"
        await page.screenshot(path=str(ARTIFACTS / "demo_offline.png"))
    with demo_process("--port", port) as (_, again, _):  # the same address again
        assert again == url
        await wait_results(page, "lond")
        assert await first_result(page) == "London"
