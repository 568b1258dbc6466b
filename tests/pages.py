"""Read the extension's HTML pages in tests: a small element tree built with html.parser."""
from __future__ import annotations

import dataclasses
import typing as t
from html.parser import HTMLParser

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}


@dataclasses.dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    parent: Node | None = None
    children: list[Node | str] = dataclasses.field(default_factory=list)

    def __getitem__(self, name: str) -> str | None:
        return self.attrs[name]

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    @property
    def text(self) -> str:
        parts: list[str] = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text)
        return " ".join(" ".join(parts).split())

    def iter(self) -> t.Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Node]:
        found = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if all(_matches(node, k.replace("_", "-"), v) for k, v in attrs.items()):
                found.append(node)
        return found

    def find(self, tag: str | None = None, **attrs: str | bool) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'}> with {attrs}"
        return found[0]

    def by_id(self, id: str) -> Node:
        return self.find(id=id)

    def ancestors(self) -> t.Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


def _matches(node: Node, name: str, wanted: str | bool) -> bool:
    if name == "class-":
        name = "class"
    if wanted is True:
        return name in node.attrs
    if name == "class":
        return str(wanted) in (node.attrs.get("class") or "").split()
    return node.attrs.get(name) == wanted


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), parent=self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, dict(attrs), parent=self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


@dataclasses.dataclass
class Row:
    phone_number: str
    application: str
    phone_errors: list[str]
    application_errors: list[str]


def settings_rows(html: str) -> list[Row]:
    """The rows of a settings page (the new-row template excluded), as rendered."""
    doc = parse(html)
    rows = []
    for li in doc.find("ol", data_xsms_rows=True).find_all("li", data_xsms_row=True):
        number = li.find("input")
        select = li.find("select")
        selected = [o.get("value") or "" for o in select.find_all("option", selected=True)]
        rows.append(
            Row(
                phone_number=number.get("value") or "",
                application=selected[0] if selected else "",
                phone_errors=_errors(li, number),
                application_errors=_errors(li, select),
            )
        )
    return rows


def _errors(row: Node, field: Node) -> list[str]:
    described = field.get("aria-describedby")
    if not described:
        return []
    return [li.text for li in row.by_id(described).find_all("li")]
