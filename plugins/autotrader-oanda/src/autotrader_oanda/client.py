"""oandapyV20, synchronous, made safe to call from worker threads and mapped to the core's errors.

``requests.Session`` is not documented as thread-safe, so every worker thread gets its own
``oandapyV20.API`` (and session).  The API is used unmodified; a ``requests`` response hook (a
public requests feature) remembers the last response's ``Retry-After``, which ``V20Error``
does not carry.

A REST session reads requests' environment settings (proxy variables, ``NO_PROXY``, the CA
bundle variables) once, when it is made, instead of on every request: see
:func:`settle_environment`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests
from autotrader.errors import BrokerError
from oandapyV20 import API
from oandapyV20.endpoints.apirequest import APIRequest
from oandapyV20.exceptions import V20Error

from autotrader_oanda.config import OandaConfig
from autotrader_oanda.environments import rest_url
from autotrader_oanda.errors import map_transport_error, map_v20_error, map_value_error, parse_retry_after

log = logging.getLogger(__name__)


class V20Client:
    """Blocking v20 calls (run them in worker threads) with every failure mapped."""

    def __init__(self, config: OandaConfig) -> None:
        self.config = config
        self._local = threading.local()
        self._apis: list[API] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"V20Client(account_id={self.config.account_id!r}, environment={self.config.environment!r})"

    def new_api(self, read_timeout: float) -> API:
        """A fresh API object (own session) with the token and timeouts; tracked for close()."""
        api = API(
            access_token=self.config.access_token.reveal(),
            environment=self.config.environment,
            request_params={"timeout": (self.config.connect_timeout, read_timeout)},
        )
        api.client.hooks["response"].append(self._remember_headers)
        with self._lock:
            self._apis.append(api)
        return api

    def release(self, api: API) -> None:
        with self._lock:
            if api in self._apis:
                self._apis.remove(api)
        api.close()

    def _thread_api(self) -> API:
        api: API | None = getattr(self._local, "api", None)
        if api is None:
            api = self.new_api(self.config.request_timeout)
            settle_environment(api.client, rest_url(self.config.environment))
            self._local.api = api
        return api

    def _remember_headers(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._local.retry_after = parse_retry_after(response.headers.get("Retry-After"))

    def request(self, endpoint: APIRequest, *, mutating: bool = False, api: API | None = None) -> Any:
        """Perform ``endpoint``; returns the decoded JSON or raises a core error."""
        what = f"{endpoint.method} {_redact(str(endpoint))}"
        self._local.retry_after = None
        try:
            return (api or self._thread_api()).request(endpoint)
        except V20Error as exc:
            raise map_v20_error(
                exc,
                what=what,
                mutating=mutating,
                retry_after=getattr(self._local, "retry_after", None),
                default_retry_after=self.config.rate_limit_retry_after,
            ) from None
        except ValueError as exc:  # unexpected success code, or a body that is not JSON
            raise map_value_error(exc, what=what, mutating=mutating, body=endpoint.response) from None
        except requests.RequestException as exc:
            raise map_transport_error(exc, what=what, mutating=mutating) from None
        except BrokerError:
            raise

    def close(self) -> None:
        with self._lock:
            apis, self._apis = self._apis, []
        for api in apis:
            try:
                api.close()
            except Exception:  # closing is best effort
                log.debug("closing an oandapyV20 session failed", exc_info=True)


def settle_environment(session: requests.Session, url: str) -> None:
    """Resolve requests' environment settings for ``url`` once; the session keeps the answer.

    With ``trust_env`` (the default) requests looks at every proxy variable, ``NO_PROXY`` and
    ``~/.netrc`` again on each request: ~150 us of a ~900 us loopback order request on the
    2-core development machine.  A REST session here talks to one host, so the answer cannot
    change between its requests: requests' own ``merge_environment_settings`` computes the
    proxies, CA bundle and client certificate once, they become the session's settings, and the
    session stops re-reading the environment.  ``~/.netrc`` is no longer consulted, as is right
    for v20: a netrc entry for the host would replace the bearer token with basic auth.
    """
    settings = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies = settings["proxies"]
    session.verify = settings["verify"]
    session.cert = settings["cert"]
    session.trust_env = False


def _redact(path: str) -> str:
    """Endpoint paths carry the account id, never the token; keep them short in messages."""
    parts = path.split("/")
    if len(parts) > 2 and parts[0] == "v3" and parts[1] == "accounts":
        parts[2] = "{account}"
    return "/".join(parts)
