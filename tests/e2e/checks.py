"""What the browser tests check on any page: no horizontal overflow, scrolling boxes reachable by
keyboard, and no serious or critical axe-core violation (axe served from the page's own origin)."""

from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe-4.10.3.min.js"
AXE_URL = "/__axe__.js"

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
UNREACHABLE_SCROLLERS = """() => [...document.querySelectorAll('.table-wrap')]
    .filter(w => w.scrollWidth > w.clientWidth && w.tabIndex < 0).length"""
# The innermost elements that reach past the right edge: where to look when a page overflows.
WIDE_ELEMENTS = """() => {
    const edge = document.documentElement.clientWidth;
    const clipped = e => {
        for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== 'visible') return true;
        }
        return false;
    };
    const wide = [...document.body.querySelectorAll('*')].filter(e =>
        e.getBoundingClientRect().right > edge + 1 && !clipped(e));
    return wide.filter(e => !wide.some(o => o !== e && e.contains(o))).slice(0, 3)
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
             + ' "' + (e.textContent || '').trim().slice(0, 30) + '"');
}"""
NEXT_FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
# Only the rules whose impact is serious or critical: axe gives each finding its rule's impact,
# so the others can find nothing this check reports (and "region" alone walks the whole page).
SERIOUS = """async () => {
    const rules = axe._audit.rules.filter(rule => rule.enabled
        && !['minor', 'moderate'].includes(rule.impact)).map(rule => rule.id);
    const r = await axe.run(document, {resultTypes: ['violations'],
                                       runOnly: {type: 'rule', values: rules}});
    return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => v.id + ': ' + v.help + ' — '
                  + v.nodes.map(n => n.target.join(' ')).join(', '));
}"""


def load_axe(page) -> None:
    """Serve axe from the page's own origin: the Content-Security-Policy runs scripts from there
    only, and the check must see the pages under the policy they are served with."""
    page.route(f"**{AXE_URL}", lambda route: route.fulfill(
        path=str(AXE), content_type="application/javascript"))
    page.add_script_tag(url=AXE_URL)


def serious_violations(page) -> list[str]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        load_axe(page)
    return page.evaluate(SERIOUS)


def width_problems(page) -> dict:
    """How far the page is wider than the screen, and how many scrolling tables the keyboard
    cannot reach; empty when neither."""
    overflow = page.evaluate(OVERFLOW)
    unreachable = page.evaluate(UNREACHABLE_SCROLLERS)
    if overflow > 0 or unreachable:
        return {"overflow_px": overflow, "unfocusable_scrollers": unreachable,
                "wide": page.evaluate(WIDE_ELEMENTS) if overflow > 0 else []}
    return {}


def problems_at(page, width: int, *, axe: bool = True) -> dict:
    """The page's problems at one screen width (the page is laid out again, not reloaded)."""
    page.set_viewport_size({"width": width, "height": 844})
    page.evaluate(NEXT_FRAME)  # the page's resize handlers run first
    found = width_problems(page)
    if axe and (violations := serious_violations(page)):
        found["axe"] = violations
    return found
