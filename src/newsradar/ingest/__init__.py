"""Ingest stage building blocks: fetch (HTTP with limits and an address guard),
parse (feedparser -> Article), canonical (URLs and ids), schedule (poll timing).

Modules are imported explicitly (`from newsradar.ingest.fetch import FeedFetcher`)
so that importing the package stays cheap.
"""
