"""The one exception tree of newsradar.

NewsradarError
├── ConfigError          a config file is missing, unparsable or invalid (names file and key)
├── BrokerError          the embedded broker would not start, or Kafka is unreachable
├── FetchError           a feed could not be fetched
│   ├── BlockedAddressError   the feed resolves to an address the config does not allow
│   ├── ResponseTooLargeError the body exceeded the configured cap
│   ├── TooManyRedirectsError the redirect chain was longer than allowed
│   └── HTTPStatusError       a non-2xx/304 answer (carries status and Retry-After)
├── FeedParseError       a body that yields no feed at all
└── DecodeError          a message on a topic that cannot be decoded (goes to news.dlq)
"""

from __future__ import annotations


class NewsradarError(Exception):
    """Base of every error newsradar raises on purpose."""


class ConfigError(NewsradarError):
    """A configuration file is missing, unparsable or invalid."""

    def __init__(self, path: str, key: str | None, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class BrokerError(NewsradarError):
    """The embedded broker could not be started, or Kafka could not be reached."""


class FetchError(NewsradarError):
    """A feed could not be fetched; `kind` is the low-cardinality metric label."""

    kind: str = "error"

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class BlockedAddressError(FetchError):
    """The feed host resolves to a loopback, private, link-local or multicast address."""

    kind = "blocked_address"


class ResponseTooLargeError(FetchError):
    """The response body (after decompression) exceeded the configured cap."""

    kind = "too_large"


class TooManyRedirectsError(FetchError):
    """The redirect chain was longer than allowed, or looped."""

    kind = "too_many_redirects"


class HTTPStatusError(FetchError):
    """The server answered with a status that is neither 2xx nor 304."""

    kind = "http_status"

    def __init__(self, status: int, retry_after_seconds: float | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after_seconds = retry_after_seconds


class FeedParseError(NewsradarError):
    """The body could not be read as a feed at all."""


class DecodeError(NewsradarError):
    """A message could not be decoded into its model; it belongs in the dead-letter topic."""
