#!/usr/bin/env python3
"""What a user would write instead of polyv-rs: requests.Session (keep-alive),
hashlib for the sign, json for parsing. Used by `cargo xtask bench` as the
alternative to compare against; it speaks to the project's mock on loopback only.

  polyv_walk.py walk BASE_URL USER_ID SECRET [PAGE_SIZE]   -> JSON line: videos, pages, seconds, cpu
  polyv_walk.py micro PAGE_JSON_FILE ITERATIONS             -> JSON line: sign_us, json_loads_ms
"""
import hashlib
import json
import sys
import time
import timeit
from urllib.parse import urlencode


def signed_params(params, secret, now_ms):
    params = {k: v for k, v in params.items() if v != ""}
    params["ptime"] = str(now_ms)
    canonical = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["sign"] = hashlib.sha1((canonical + secret).encode()).hexdigest().upper()
    return params


def walk(base_url, user_id, secret, page_size):
    import requests

    session = requests.Session()
    url = f"{base_url}/v2/video/{user_id}/get-by-uploader"
    page, pages, videos = 1, 0, 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while True:
        params = {"orderType": "1", "page": str(page)}
        if page_size:
            params["pageSize"] = str(page_size)
        query = urlencode(signed_params(params, secret, int(time.time() * 1000)))
        response = session.get(f"{url}?{query}", timeout=30)
        body = response.json()
        if body.get("code") != 200:
            raise SystemExit(f"page {page}: {body.get('message')}")
        data = body["data"]
        pages += 1
        videos += len(data["contents"])
        last = -(-data["totalItems"] // data["pageSize"]) if data["pageSize"] else page
        if not data["contents"] or page >= last:
            break
        page += 1
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(json.dumps({"videos": videos, "pages": pages, "seconds": seconds, "cpu": cpu}))


def micro(page_file, iterations):
    with open(page_file, "rb") as f:
        body = f.read()
    params = {
        "email": "ops+cn@example.com", "orderType": "2", "cataid": "1539918907896",
        "containSubCata": "1", "published": "1", "page": "3", "pageSize": "100",
    }
    sign_runs = timeit.repeat(
        lambda: urlencode(signed_params(params, "tIQp4ATe9Z", 1700000000000)),
        number=iterations, repeat=5)
    parse_runs = timeit.repeat(lambda: json.loads(body), number=max(1, iterations // 1000), repeat=5)
    sign_us = sorted(r / iterations * 1e6 for r in sign_runs)
    parse_ms = sorted(r / max(1, iterations // 1000) * 1e3 for r in parse_runs)
    print(json.dumps({
        "sign_us": {"median": sign_us[2], "min": sign_us[0], "max": sign_us[-1]},
        "json_loads_ms": {"median": parse_ms[2], "min": parse_ms[0], "max": parse_ms[-1]},
        "bytes": len(body),
    }))


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "walk":
        walk(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 0)
    elif len(sys.argv) == 4 and sys.argv[1] == "micro":
        micro(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit(__doc__)
