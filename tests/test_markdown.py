"""Tests for rivendell.markdown: rendering, XSS resistance, limits, Unicode."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from rivendell.markdown import MAX_MARKDOWN_CHARS, render_markdown

# Every tag and attribute the renderer may legitimately produce.
ALLOWED_ATTRS: dict[str, set[str]] = {
    "a": {"href", "title", "rel", "target"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    **{
        tag: set()
        for tag in [
            "p",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "em",
            "strong",
            "s",
            "ul",
            "li",
            "blockquote",
            "pre",
            "hr",
            "br",
            "table",
            "thead",
            "tbody",
            "tr",
        ]
    },
}
FORBIDDEN_TAGS = {"script", "iframe", "svg", "object", "embed", "style", "math"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


@dataclass
class Tag:
    name: str
    attrs: dict[str, str | None] = field(default_factory=dict)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[Tag] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(Tag(tag, dict(attrs)))


def parse_tags(rendered: str) -> list[Tag]:
    collector = _Collector()
    collector.feed(rendered)
    collector.close()
    return collector.tags


def squash(value: str) -> str:
    """Lower-case and drop the characters browsers ignore inside a scheme."""
    return "".join(ch for ch in value.lower() if unicodedata.category(ch)[0] not in "CZ")


def assert_safe(rendered: str) -> None:
    lowered = rendered.lower()
    for name in FORBIDDEN_TAGS:
        assert f"<{name}" not in lowered, rendered
    for tag in parse_tags(rendered):
        assert tag.name not in FORBIDDEN_TAGS, rendered
        assert tag.name in ALLOWED_ATTRS, f"unexpected <{tag.name}> in {rendered!r}"
        for attr, value in tag.attrs.items():
            assert not re.fullmatch(r"on\w+", attr), rendered
            assert attr in ALLOWED_ATTRS[tag.name], f"{tag.name}[{attr}] {rendered!r}"
            if attr in ("href", "src"):
                url = squash(value or "")
                for scheme in BAD_SCHEMES:
                    assert scheme not in url, rendered


def links(rendered: str) -> list[Tag]:
    return [tag for tag in parse_tags(rendered) if tag.name == "a"]


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<a href="javascript:alert(1)">x</a>',
    '<div onmouseover="alert(1)">hover</div>',
    "<details open ontoggle=alert(1)>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](<\x01javascript:alert(1)>)",
    "[x](<java\tscript:alert(1)>)",
    "[x](<java\nscript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;vascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](javascript%3Aalert(1))",
    "[x](%256Aavascript:alert(1))",
    "[x](java\u200bscript:alert(1))",
    "[x](java\u202escript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](file:///etc/passwd)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](javascript:alert(1))",
    '![x" onerror="alert(1)](http://example.com/a.png)',
    "[![img](http://example.com/a.png)](javascript:alert(1))",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    '[ref]\n\n[ref]: javascript:alert(1) "title"',
    "![ref][img]\n\n[img]: data:image/svg+xml,<svg/onload=alert(1)>",
    '[a](http://x "\\" onmouseover=alert(1)")',
    "[a](http://x 'x' onmouseover=alert(1))",
    '[a](http://x" onmouseover="alert(1))',
    '[a](<http://x" onmouseover="alert(1)>)',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "<div>**bold** <script>alert(1)</script></div>",
    "<div>\n\n[x](javascript:alert(1))\n\n</div>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    '```"><script>alert(1)</script>\nx\n```',
    "```js onmouseover=alert(1)\nx\n```",
    "`<script>alert(1)</script>`",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "~~<script>alert(1)</script>~~",
    "<!-- --><script>alert(1)</script>",
    "<![CDATA[<script>alert(1)</script>]]>",
]


def test_enough_payloads() -> None:
    assert len(XSS_PAYLOADS) >= 30


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_is_neutralised(payload: str) -> None:
    assert_safe(render_markdown(payload))


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payload_inside_a_document(payload: str) -> None:
    document = f"# Problem\n\nSome *text* and [a link](https://ok.example).\n\n{payload}\n"
    assert_safe(render_markdown(document))


def test_checker_catches_unsafe_html() -> None:
    # Guards against a checker that would pass anything.
    for unsafe in (
        "<script>x</script>",
        '<a href="javascript:x">a</a>',
        '<a href="&#106;avascript:x">a</a>',
        '<img src="data:image/png;base64,AA">',
        '<p onclick="x">a</p>',
        "<svg></svg>",
    ):
        with pytest.raises(AssertionError):
            assert_safe(unsafe)


# --- basic rendering -------------------------------------------------------


def test_headings() -> None:
    rendered = render_markdown("# One\n\n## Two\n\n###### Six")
    assert "<h1>One</h1>" in rendered
    assert "<h2>Two</h2>" in rendered
    assert "<h6>Six</h6>" in rendered


def test_lists() -> None:
    rendered = render_markdown("- a\n- b\n\n3. c\n4. d")
    assert "<ul>\n<li>a</li>\n<li>b</li>\n</ul>" in rendered
    assert '<ol start="3">' in rendered
    assert "<li>d</li>" in rendered


def test_emphasis_and_strikethrough() -> None:
    rendered = render_markdown("*em* **strong** ~~gone~~ `code`")
    assert rendered == (
        "<p><em>em</em> <strong>strong</strong> <s>gone</s> <code>code</code></p>\n"
    )


def test_code_fence_content_is_escaped() -> None:
    rendered = render_markdown("```python\nif a < b and c > d:\n    pass\n```")
    assert rendered == (
        '<pre><code class="language-python">if a &lt; b and c &gt; d:\n    pass\n</code></pre>\n'
    )


def test_table() -> None:
    rendered = render_markdown("| n | f(n) |\n|:--|--:|\n| 1 | 1 |\n| 2 | 2 |")
    assert "<table>" in rendered
    assert '<th style="text-align:left">n</th>' in rendered
    assert '<td style="text-align:right">2</td>' in rendered
    assert rendered.count("<tr>") == 3


def test_raw_html_is_escaped_text() -> None:
    rendered = render_markdown("<b>hi</b>\n\n<div>block</div>")
    assert "&lt;b&gt;hi&lt;/b&gt;" in rendered
    assert "&lt;div&gt;block&lt;/div&gt;" in rendered
    assert "<b>" not in rendered
    assert "<div>" not in rendered


def test_markdown_inside_html_is_rendered_but_tags_are_not() -> None:
    rendered = render_markdown("<span>**bold**</span>")
    assert rendered == "<p>&lt;span&gt;<strong>bold</strong>&lt;/span&gt;</p>\n"


# --- links and images ------------------------------------------------------


def test_refused_link_renders_as_its_text_only() -> None:
    assert render_markdown("[click me](javascript:alert(1))") == "<p>click me</p>\n"
    assert render_markdown("a [*b*](vbscript:x) c") == "<p>a <em>b</em> c</p>\n"


def test_refused_reference_link_renders_as_its_text_only() -> None:
    rendered = render_markdown("[click][1]\n\n[1]: javascript:alert(1)")
    assert rendered == "<p>click</p>\n"


def test_refused_image_renders_as_its_alt_text() -> None:
    rendered = render_markdown("![a *cat*](data:image/png;base64,iVBORw0KGgo=)")
    assert rendered == "<p>a cat</p>\n"


def test_link_wrapping_a_refused_target_keeps_inner_image() -> None:
    rendered = render_markdown("[![i](https://e.example/i.png)](javascript:x)")
    assert rendered == '<p><img src="https://e.example/i.png" alt="i" /></p>\n'


@pytest.mark.parametrize(
    "url",
    ["http://example.com", "https://example.com/a?b=c#d", "HTTPS://EXAMPLE.COM"],
)
def test_absolute_links_open_in_new_tab(url: str) -> None:
    (link,) = links(render_markdown(f"[x]({url})"))
    assert link.attrs["rel"] == "nofollow noopener noreferrer"
    assert link.attrs["target"] == "_blank"


@pytest.mark.parametrize(
    "url", ["/problems/1", "../x.md", "#section", "?q=1", "mailto:a@example.com"]
)
def test_other_allowed_links_get_rel_but_no_target(url: str) -> None:
    (link,) = links(render_markdown(f"[x]({url})"))
    assert link.attrs["href"] == url
    assert link.attrs["rel"] == "nofollow noopener noreferrer"
    assert "target" not in link.attrs


def test_autolink_and_reference_link_get_rel() -> None:
    rendered = render_markdown("<https://a.example>\n\n[r][x]\n\n[x]: https://b.example")
    found = links(rendered)
    assert [a.attrs["href"] for a in found] == [
        "https://a.example",
        "https://b.example",
    ]
    for link in found:
        assert link.attrs["rel"] == "nofollow noopener noreferrer"
        assert link.attrs["target"] == "_blank"


def test_link_title_cannot_break_out_of_attribute() -> None:
    (link,) = links(render_markdown('[a](http://x "\\" onmouseover=alert(1)")'))
    assert link.attrs["title"] == '" onmouseover=alert(1)'
    assert "onmouseover" not in link.attrs


def test_allowed_images_are_kept() -> None:
    rendered = render_markdown("![a](https://e.example/a.png) ![b](img/b.png)")
    srcs = [tag.attrs["src"] for tag in parse_tags(rendered) if tag.name == "img"]
    assert srcs == ["https://e.example/a.png", "img/b.png"]


def test_mailto_image_is_refused() -> None:
    assert render_markdown("![m](mailto:a@example.com)") == "<p>m</p>\n"


# --- fenced code language class --------------------------------------------


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("python", "python"),
        ("c++", "c++"),
        ("objective-c", "objective-c"),
        ("snake_case", "snake_case"),
        ("x" * 32, "x" * 32),
        ("python title=main.py", "python"),
    ],
)
def test_fence_language_class_kept(info: str, expected: str) -> None:
    (code,) = [t for t in parse_tags(render_markdown(f"```{info}\nx\n```")) if t.name == "code"]
    assert code.attrs == {"class": f"language-{expected}"}


@pytest.mark.parametrize(
    "info",
    [
        "",
        "x" * 33,
        "py<thon",
        'py"thon',
        "py&amp;thon",
        "py\\thon",
        "pyth\u00f6n",
        "c#",
        "{.python}",
        "lang:python",
    ],
)
def test_fence_language_class_dropped(info: str) -> None:
    rendered = render_markdown(f"```{info}\nx\n```")
    assert rendered == "<pre><code>x\n</code></pre>\n"


def test_indented_code_has_no_class() -> None:
    assert render_markdown("    x = 1") == "<pre><code>x = 1\n</code></pre>\n"


# --- length limit, NUL, Unicode --------------------------------------------


def test_max_length_is_accepted() -> None:
    assert MAX_MARKDOWN_CHARS == 20_000
    rendered = render_markdown("a" * MAX_MARKDOWN_CHARS)
    assert rendered == f"<p>{'a' * MAX_MARKDOWN_CHARS}</p>\n"


def test_over_max_length_is_refused() -> None:
    with pytest.raises(ValueError, match=r"too long.*20,000"):
        render_markdown("a" * (MAX_MARKDOWN_CHARS + 1))


def test_length_counts_characters_not_bytes() -> None:
    # 20 000 four-byte emoji are within the limit.
    render_markdown("\U0001f600" * MAX_MARKDOWN_CHARS)


def test_empty_source() -> None:
    assert render_markdown("") == ""


def test_nul_is_replaced() -> None:
    rendered = render_markdown("a\x00b\n\n[x\x00](https://e.example/\x00)")
    assert "\x00" not in rendered
    assert "a\ufffdb" in rendered


@pytest.mark.parametrize(
    "text",
    [
        "abc \u202eevil\u202c def",  # right-to-left override
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # family: zero-width joiners
        "\U0001f680 \U0001f1eb\U0001f1f7",  # emoji, flag
        "e\u0301 a\u0308\u0308\u0308",  # combining characters
        "\u0645\u0631\u062d\u0628\u0627",  # Arabic
        "zero\u200bwidth\ufeffbom",
        "\U0010ffff \ue000",  # noncharacter, private use
        "\ud800",  # lone surrogate
    ],
)
def test_odd_unicode_passes_through(text: str) -> None:
    rendered = render_markdown(text)
    assert rendered == f"<p>{text}</p>\n"


@pytest.mark.parametrize("trick", ["\u202e", "\u200d", "\u200b", "\ufeff", "\u00a0"])
def test_invisible_characters_in_link_scheme_are_refused(trick: str) -> None:
    rendered = render_markdown(f"[x](java{trick}script:alert(1))")
    assert rendered == "<p>x</p>\n"


def test_combining_character_in_scheme_is_only_a_relative_link() -> None:
    # Browsers do not read "java\u0301script:" as a scheme, so it stays a link.
    (link,) = links(render_markdown("[x](java\u0301script:alert(1))"))
    assert link.attrs["href"] == "java%CC%81script:alert(1)"
    assert "target" not in link.attrs


def test_deeply_nested_input_does_not_crash() -> None:
    for source in (">" * 5000 + " x", "- " * 5000 + "x", "[" * 10000, "*a" * 5000):
        assert_safe(render_markdown(source))
