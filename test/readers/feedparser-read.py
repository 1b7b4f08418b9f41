"""Reads a feed the way aggregators built on Universal Feed Parser do: over
HTTP with its own client (gzip, ETag, Last-Modified), and prints what it
understood as JSON. Usage: feedparser-read.py URL [ETAG]"""
import json
import sys

import feedparser

url = sys.argv[1]
etag = sys.argv[2] if len(sys.argv) > 2 else None
d = feedparser.parse(url, etag=etag, agent="feedparser-test")


def entry(e):
    content = e.get("content") or []
    return {
        "id": e.get("id"),
        "title": e.get("title"),
        "link": e.get("link"),
        "author": e.get("author"),
        "summary": e.get("summary"),
        "content": content[0]["value"] if content else None,
        "published": e.get("published"),
        "updated": e.get("updated"),
        "enclosures": [{"href": x.get("href"), "type": x.get("type")} for x in e.get("enclosures", [])],
    }


print(json.dumps({
    "status": d.get("status"),
    "etag": d.get("etag"),
    "modified": d.get("modified"),
    "encoding": (d.get("headers") or {}).get("content-encoding"),
    "version": d.get("version"),
    "bozo": bool(d.get("bozo")),
    "bozo_exception": str(d.get("bozo_exception")) if d.get("bozo") else None,
    "title": d.feed.get("title"),
    "hubs": [l.get("href") for l in d.feed.get("links", []) if l.get("rel") == "hub"],
    "entries": [entry(e) for e in d.entries],
}))
