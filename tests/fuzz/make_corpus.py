#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/.

Run it again after changing the seeds; the files are checked in. Each
target's input starts with its configuration byte(s) (see the target's
comment), then the payload. WAL seeds are made by tests/fuzz/make_wal_seeds.cpp
(the real record writer), not here.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# -- events: one of each op, each error code of DESIGN.md §2 -----------------
EVENTS = {
    "set": '{"id":"e-1","key":"user:42","op":"set","data":{"country":"DE","tags":["a",{"b":null}],"ok":true}}',
    "set_default_op": '{"id":"e-2","key":"user:42","data":{"n":1}}',
    "incr": '{"id":"e-3","key":"user:42","op":"incr","data":{"clicks":1,"spent":9.5},"ts":1764000000123}',
    "incr_neg": '{"id":"e-4","key":"user:42","op":"incr","data":{"clicks":-9223372036854775808}}',
    "incr_overflow": '{"id":"e-5","key":"k","op":"incr","data":{"n":9223372036854775807}}\n{"id":"e-6","key":"k","op":"incr","data":{"n":1}}',
    "incr_real": '{"id":"e-7","key":"k","op":"incr","data":{"x":1e308}}\n{"id":"e-8","key":"k","op":"incr","data":{"x":1e308}}',
    "field_not_numeric": '{"id":"e-9","key":"k","op":"set","data":{"s":"text"}}\n{"id":"e-10","key":"k","op":"incr","data":{"s":1}}',
    "del_fields": '{"id":"e-11","key":"k","op":"del","data":{"s":null,"missing":1}}',
    "del_record": '{"id":"e-12","key":"k","op":"del"}',
    "dup": '{"id":"d","key":"k","data":{"a":1}}\n{"id":"d","key":"k","data":{"a":2}}',
    "invalid_json": '{"id":"e","key":"k",',
    "invalid_utf8": b'{"id":"e","key":"\xff\xfe","data":{}}',
    "not_an_object": '[1,2,3]',
    "missing_field": '{"id":"e","op":"incr","data":{"a":1}}',
    "missing_data": '{"id":"e","key":"k","op":"set"}',
    "empty_id": '{"id":"","key":"k","data":{}}',
    "wrong_type": '{"id":7,"key":"k","data":{}}',
    "wrong_type_ts": '{"id":"e","key":"k","data":{},"ts":-1}\n{"id":"e","key":"k","data":{},"ts":1.5}\n{"id":"e","key":"k","data":{},"ts":"1"}',
    "wrong_type_data": '{"id":"e","key":"k","data":[1]}',
    "unknown_field": '{"id":"e","key":"k","data":{},"extra":1}',
    "duplicate_field": '{"id":"e","id":"f","key":"k","data":{}}',
    "duplicate_data_field": '{"id":"e","key":"k","data":{"a":1,"a":2}}',
    "too_large_id": '{"id":"' + "i" * 129 + '","key":"k","data":{}}',
    "too_large_key": '{"id":"e","key":"' + "k" * 513 + '","data":{}}',
    "too_deep": '{"id":"e","key":"k","data":{"a":' + "[" * 40 + "]" * 40 + '}}',
    "bad_op": '{"id":"e","key":"k","op":"mul","data":{}}',
    "op_wrong_type": '{"id":"e","key":"k","op":1,"data":{}}',
    "not_a_number": '{"id":"e","key":"k","op":"incr","data":{"a":"1"}}',
    "escapes": '{"id":"e\\u0000\\"","key":"k\\ud83d\\ude00/\\n","data":{"\\u00e9":"\\t"}}',
    "numbers": '{"id":"e","key":"k","op":"incr","data":{"a":-0,"b":0.0,"c":1E400,"d":-1e-400,"e":18446744073709551616}}',
    "blank_lines": '\n  \t\r\n\n{"id":"e","key":"k","data":{}}\n\n',
    "crlf": '{"id":"e","key":"k","data":{}}\r\n{"id":"f","key":"k","data":{}}\r\n',
    "no_newline_end": '{"id":"e","key":"k","data":{}}\n{"id":"f","key":"k","data":{}}',
    "whitespace": ' \t{ "id" : "e" , "key" : "k" , "data" : { } } ',
    "json_array": '[{"id":"a","key":"k","data":{"x":1}},{"id":"b"},7,"s",null]',
    "json_empty_array": '[]',
    "json_nested": '[[{"id":"a","key":"k","data":{}}]]',
    "bom": '\ufeff{"id":"e","key":"k","data":{}}',
    "nul": b'{"id":"e","key":"k","data":{}}\x00',
    "lone_surrogate": '{"id":"\\ud800","key":"k","data":{}}',
    "trailing_garbage": '{"id":"e","key":"k","data":{}} x',
    "comment": '/* c */{"id":"e","key":"k","data":{}}',
}


def events():
    for name, text in EVENTS.items():
        raw = text.encode() if isinstance(text, str) else text
        # event_codec: config byte 0 = default limits, one shard;
        # 0x23 = depth 3, 256-byte lines, three shards.
        write("event_codec", name, b"\x00" + raw)
        write("event_codec", name + "_small", b"\x23" + raw)
        # shard_apply: config 0x00 = batches of one, window of one;
        # 0x87 = batches of 8, default window.
        write("shard_apply", name, b"\x00" + raw)
        write("shard_apply", name + "_big", b"\x87" + raw)
    # a longer mixed stream for the store
    lines = []
    for i in range(40):
        key = "user:%d" % (i % 5)
        op = ["set", "incr", "del", "incr"][i % 4]
        data = {"set": '{"a":%d,"s":"v%d"}' % (i, i), "incr": '{"a":%d,"b":0.5}' % i,
                "del": '{"s":null}' if i % 8 else None}[op]
        ev = '{"id":"m-%d","key":"%s","op":"%s"' % (i % 17, key, op)
        if data:
            ev += ',"data":' + data
        lines.append(ev + ',"ts":%d}' % (1764000000000 + i))
    write("shard_apply", "mixed", b"\x13" + "\n".join(lines).encode())
    write("event_codec", "mixed", b"\x30" + "\n".join(lines).encode())


# -- line framer: 4 config bytes (limit, first seq, take_chunk every, sizes) --
def framer():
    seeds = {
        "simple": b"a\nbb\nccc\n",
        "blank": b"\n\n\n",
        "oversized": b"x" * 100 + b"\nshort\n" + b"y" * 63 + b"\n" + b"z" * 64,
        "no_newline": b"tail without newline",
        "events": "\n".join(EVENTS[k] for k in ("set", "incr", "del_record")).encode(),
        "crlf": b"a\r\nb\r\n\r\n",
    }
    for name, data in seeds.items():
        write("line_framer", name, bytes([16, 1, 2, 5]) + data)
        write("line_framer", name + "_limit0", bytes([0, 0, 0, 200]) + data)
        write("line_framer", name + "_limit63", bytes([63, 1, 7, 3]) + data)


# -- HTTP: every route, chunked bodies, smuggling attempts --------------------
def req(method, target, body=b"", headers=(), chunked=False, length=True):
    head = "%s %s HTTP/1.1\r\nHost: localhost\r\n" % (method, target)
    for h in headers:
        head += h + "\r\n"
    if isinstance(body, str):
        body = body.encode()
    if chunked:
        head += "Transfer-Encoding: chunked\r\n"
        out = b""
        for i in range(0, len(body), 7):
            part = body[i:i + 7]
            out += b"%x\r\n" % len(part) + part + b"\r\n"
        body = out + b"0\r\n\r\n"
    elif body or (length and method == "POST"):
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body


def http():
    nd = "\n".join([EVENTS["set"], EVENTS["incr"], EVENTS["bad_op"], "", EVENTS["missing_field"]])
    js = EVENTS["json_array"]
    seeds = {
        "post_ndjson": req("POST", "/v1/events", nd, ["Content-Type: application/x-ndjson"]),
        "post_ndjson_charset": req("POST", "/v1/events", nd, ["Content-Type: Application/X-NDJSON; charset=utf-8"]),
        "post_json": req("POST", "/v1/events", js, ["Content-Type: application/json"]),
        "post_json_object": req("POST", "/v1/events", EVENTS["incr"], ["Content-Type: application/json"]),
        "post_not_json": req("POST", "/v1/events", "{nope", ["Content-Type: application/json"]),
        "post_overload": req("POST", "/v1/events", '{"id":"overload"}', ["Content-Type: application/json"]),
        "post_415": req("POST", "/v1/events", "x", ["Content-Type: text/plain"]),
        "post_no_type": req("POST", "/v1/events", "x"),
        "post_chunked": req("POST", "/v1/events", nd, ["Content-Type: application/x-ndjson"], chunked=True),
        "post_chunked_json": req("POST", "/v1/events", js, ["Content-Type: application/json"], chunked=True),
        "post_expect": req("POST", "/v1/events", nd, ["Content-Type: application/x-ndjson", "Expect: 100-continue"]),
        "post_too_large": req("POST", "/v1/events", "x" * 100, ["Content-Type: application/x-ndjson"]),
        "get_key": req("GET", "/v1/keys/user:42"),
        "get_key_encoded": req("GET", "/v1/keys/user%3A42%20%2F%e2%82%ac"),
        "get_key_bad_escape": req("GET", "/v1/keys/a%zz"),
        "get_key_trunc_escape": req("GET", "/v1/keys/a%4"),
        "get_key_empty": req("GET", "/v1/keys/"),
        "get_key_missing": req("GET", "/v1/keys/nobody"),
        "get_key_fail": req("GET", "/v1/keys/fail"),
        "delete_key": req("DELETE", "/v1/keys/ab"),
        "delete_key_absent": req("DELETE", "/v1/keys/abc"),
        "stats": req("GET", "/v1/stats"),
        "actors": req("GET", "/v1/actors"),
        "actor_1": req("GET", "/v1/actors/1"),
        "actor_bad": req("GET", "/v1/actors/x1"),
        "actor_huge": req("GET", "/v1/actors/99999999999999999999999"),
        "actor_unknown": req("GET", "/v1/actors/2"),
        "cluster": req("GET", "/v1/cluster"),
        "tap_key": req("GET", "/v1/tap?key=user%3A42&rate=10"),
        "tap_shard": req("GET", "/v1/tap?shard=3"),
        "tap_bad_shard": req("GET", "/v1/tap?shard=4"),
        "tap_neg_shard": req("GET", "/v1/tap?shard=-1"),
        "tap_both": req("GET", "/v1/tap?key=a&shard=1"),
        "tap_none": req("GET", "/v1/tap"),
        "tap_bad_rate": req("GET", "/v1/tap?key=a&rate=0"),
        "tap_empty_key": req("GET", "/v1/tap?key=&rate="),
        "metrics": req("GET", "/metrics"),
        "healthz": req("GET", "/healthz"),
        "readyz": req("GET", "/readyz"),
        "admin": req("GET", "/admin"),
        "not_found": req("GET", "/nope?x=1"),
        "method_not_allowed": req("PUT", "/v1/keys/a", "x"),
        "method_not_allowed_events": req("GET", "/v1/events"),
        "head": req("HEAD", "/healthz"),
        "options_star": b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "absolute_target": b"GET http://example.org/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n",
        "http10": b"GET /healthz HTTP/1.0\r\n\r\n",
        "pipelined": req("GET", "/healthz") + req("POST", "/v1/events", nd, ["Content-Type: application/x-ndjson"]) + req("DELETE", "/v1/keys/k1"),
        # smuggling and malformed framing
        "cl_te": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/stats HTTP/1.1\r\nHost: x\r\n\r\n",
        "te_cl": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\nContent-Type: application/json\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
        "two_cl": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\nContent-Type: application/json\r\n\r\n[]]",
        "te_gzip_chunked": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nContent-Type: application/json\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
        "te_identity": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
        "chunk_bad_size": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n[]\r\n0\r\n\r\n",
        "chunk_huge_size": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nffffffffffffffffff\r\n[]\r\n0\r\n\r\n",
        "chunk_ext": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n2;name=\"v\"\r\n[]\r\n0\r\nTrailer: x\r\n\r\n",
        "chunk_negative": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n[]\r\n0\r\n\r\n",
        "cl_negative": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "cl_overflow": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "cl_plus": b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\nContent-Type: application/json\r\n\r\n[]",
        "obs_fold": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
        "bare_lf": b"GET /healthz HTTP/1.1\nHost: x\n\n",
        "space_before_colon": b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
        "nul_in_target": b"GET /v1/keys/a\x00b HTTP/1.1\r\nHost: x\r\n\r\n",
        # regressions: request bytes echoed into JSON must be valid UTF-8
        "regress_utf8_path": b"GET /\x99\x99/v1/tap?shard=4 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "regress_utf8_key": req("GET", "/v1/keys/%ff%c3%28%ed%a0%80"),
        "regress_utf8_tap_key": req("GET", "/v1/tap?key=%f4%90%80%80"),
        "long_header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n",
    }
    for name, data in seeds.items():
        write("http_request", name, b"\x02" + data)
    write("http_request", "post_too_large_small_limit", b"\x01" + seeds["post_too_large"])
    write("http_request", "post_ndjson_short_lines", b"\x00" + seeds["post_ndjson"])


def main():
    events()
    framer()
    http()


if __name__ == "__main__":
    sys.exit(main())
