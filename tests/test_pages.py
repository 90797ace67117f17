"""The one HTML renderer (``report/pages.py``): Jinja2 templates, autoescaped, compiled once,
shipped in the wheel."""

from __future__ import annotations

import tomllib
from html.parser import HTMLParser
from pathlib import Path

from trygghet_analys.report import pages

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "src" / "trygghet_analys" / "report" / "templates"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_values_are_escaped_never_markup():
    evil = '<script>alert("x")</script> & <b>'
    html = pages.render_table(
        pages.table(evil, [evil, evil], [[("th", "", evil), ("td", "num", evil)]], sheet=evil)
    )
    parser = _Text()
    parser.feed(html)
    assert "script" not in parser.tags and "b" not in parser.tags
    assert parser.text.count(evil) == 5  # caption, two headers, two cells: the text as written
    assert 'data-blad="&lt;script&gt;' in html


def test_table_markup_scopes_and_classes():
    html = pages.render_table(
        pages.table("T", ["A", "B"], [[("th", "", "x"), ("td", "num", "1")]], sheet="Blad")
    )
    # the div keeps a wide table inside the page (stil.css: .tabell scrolls sideways)
    assert html == (
        '<div class="tabell"><table data-blad="Blad"><caption>T</caption><thead><tr>'
        '<th scope="col">A</th><th scope="col">B</th></tr></thead><tbody><tr>'
        '<th scope="row">x</th><td class="num">1</td></tr></tbody></table></div>'
    )


def test_wide_tables_stay_inside_the_page():
    css = pages._source("stil.css")
    assert ".tabell{max-width:100%;overflow-x:auto}" in css


def test_empty_columns_dropped_only_when_asked():
    rows = [[("td", "", "x"), ("td", "num", "–")], [("td", "", "y"), ("td", "num", "")]]
    assert pages.table("T", ["A", "B"], rows)["headers"] == ["A", "B"]
    assert pages.table("T", ["A", "B"], rows, drop_empty=True)["headers"] == ["A"]
    one = [[("td", "", "x"), ("td", "num", "–")], [("td", "", "y"), ("td", "num", "2")]]
    assert pages.table("T", ["A", "B"], one, drop_empty=True)["headers"] == ["A", "B"]


def test_environment_and_compiled_templates_are_reused():
    env = pages.environment()
    assert pages.environment() is env
    assert env.autoescape is True
    pages.compile_all()
    first = {name: env.get_template(name) for name in pages.TEMPLATES}
    assert all(env.get_template(name) is t for name, t in first.items())


def test_templates_are_package_data():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = meta["tool"]["setuptools"]["package-data"]["trygghet_analys"]
    assert "report/templates/*" in data
    names = {p.name for p in TEMPLATES.iterdir()}
    assert set(pages.TEMPLATES) <= names
    assert [n for n in names if n.endswith(".css")] == ["stil.css"]  # one stylesheet


def test_both_pages_inline_the_one_stylesheet():
    """rapport.html and the underlag page carry the same <style>: the file stil.css."""
    import re

    frame = {"title": "T", "banner": "", "kommun": "K", "year": 2025, "notes": []}
    rapport = pages.render_page("rapport.html", **frame, findings=[], charts=[], min_n=30)
    underlag = pages.render_page(
        "underlag.html", **frame, intro="", areas=[], cap=None, more=0, commitments=[],
        sources=[],
    )  # fmt: skip
    css = (TEMPLATES / "stil.css").read_text(encoding="utf-8")
    styles = [re.findall(r"<style>\n(.*?)</style>", p, flags=re.S) for p in (rapport, underlag)]
    assert styles == [[css], [css]]
    for page in (rapport, underlag):
        assert page.endswith("</footer>\n</body>\n</html>\n")
