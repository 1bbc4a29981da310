"""Requests kafka-python 2.0.2 has no class for, built from its own protocol
classes (Struct, Schema, Array, Int32, ...) and sent on its BrokerConnection.

kafka-python 2.0.2 predates flexible versions (KIP-482), so this adds the
compact types and tagged fields they need. A flexible request's header (v2)
ends with an empty tagged-field section after the client id, which is the
same bytes as a leading TaggedFields field of the body; likewise a flexible
response's header (v1) is the correlation id then tagged fields, so response
classes start with a TaggedFields field."""

import socket
import time

from kafka.conn import BrokerConnection
from kafka.protocol.api import Request, Response
from kafka.protocol.types import AbstractType, Array, Boolean, Int16, Int32, Int64, Schema, String


def _uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_uvarint(data):
    shift = result = 0
    while True:
        b = data.read(1)[0]
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result
        shift += 7


class CompactString(AbstractType):
    @classmethod
    def encode(cls, value):
        if value is None:
            return _uvarint(0)
        b = value.encode("utf-8")
        return _uvarint(len(b) + 1) + b

    @classmethod
    def decode(cls, data):
        n = _read_uvarint(data) - 1
        return None if n < 0 else data.read(n).decode("utf-8")


class CompactArray(Array):
    def encode(self, items):
        if items is None:
            return _uvarint(0)
        return _uvarint(len(items) + 1) + b"".join(self.array_of.encode(i) for i in items)

    def decode(self, data):
        n = _read_uvarint(data) - 1
        return None if n < 0 else [self.array_of.decode(data) for _ in range(n)]


class TaggedFields(AbstractType):
    """An empty tagged-field section out; any tags in are skipped."""

    @classmethod
    def encode(cls, value):
        return b"\x00"

    @classmethod
    def decode(cls, data):
        for _ in range(_read_uvarint(data)):
            _read_uvarint(data)  # tag
            data.read(_read_uvarint(data))
        return None


# ---- DescribeLogDirs (key 35) -------------------------------------------------------


def _log_dirs_response(version):
    flexible = version >= 2
    s = CompactString if flexible else String("utf-8")
    arr = CompactArray if flexible else Array
    tags = [("tags", TaggedFields)] if flexible else []
    partition = Schema(("partition_index", Int32), ("partition_size", Int64), ("offset_lag", Int64),
                       ("is_future_key", Boolean), *tags)
    topic = Schema(("name", s), ("partitions", arr(partition)), *tags)
    result = [("error_code", Int16), ("log_dir", s), ("topics", arr(topic))]
    if version >= 4:
        result += [("total_bytes", Int64), ("usable_bytes", Int64)]
    fields = [("header_tags", TaggedFields)] if flexible else []
    fields += [("throttle_time_ms", Int32)]
    if version >= 3:
        fields += [("error_code", Int16)]
    fields += [("results", arr(Schema(*result, *tags))), *tags]
    return type(f"DescribeLogDirsResponse_v{version}", (Response,),
                {"API_KEY": 35, "API_VERSION": version, "SCHEMA": Schema(*fields)})


def _log_dirs_request(version):
    flexible = version >= 2
    s = CompactString if flexible else String("utf-8")
    arr = CompactArray if flexible else Array
    tags = [("tags", TaggedFields)] if flexible else []
    topic = Schema(("topic", s), ("partitions", arr(Int32)), *tags)
    fields = ([("header_tags", TaggedFields)] if flexible else []) + [("topics", arr(topic)), *tags]
    return type(f"DescribeLogDirsRequest_v{version}", (Request,),
                {"API_KEY": 35, "API_VERSION": version, "SCHEMA": Schema(*fields),
                 "RESPONSE_TYPE": _log_dirs_response(version)})


DescribeLogDirsRequest = [_log_dirs_request(v) for v in range(5)]


# ---- DescribeProducers (key 61), v0, flexible -----------------------------------------

_producer = Schema(("producer_id", Int64), ("producer_epoch", Int32), ("last_sequence", Int32),
                   ("last_timestamp", Int64), ("coordinator_epoch", Int32),
                   ("current_txn_start_offset", Int64), ("tags", TaggedFields))


class DescribeProducersResponse_v0(Response):
    API_KEY = 61
    API_VERSION = 0
    SCHEMA = Schema(
        ("header_tags", TaggedFields),
        ("throttle_time_ms", Int32),
        ("topics", CompactArray(
            ("name", CompactString),
            ("partitions", CompactArray(
                ("partition_index", Int32), ("error_code", Int16), ("error_message", CompactString),
                ("active_producers", CompactArray(_producer)), ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("tags", TaggedFields))


class DescribeProducersRequest_v0(Request):
    API_KEY = 61
    API_VERSION = 0
    RESPONSE_TYPE = DescribeProducersResponse_v0
    SCHEMA = Schema(
        ("header_tags", TaggedFields),
        ("topics", CompactArray(("name", CompactString), ("partition_indexes", CompactArray(Int32)),
                                ("tags", TaggedFields))),
        ("tags", TaggedFields))


def send(bootstrap, request, timeout_s=10):
    """Sends `request` on a fresh kafka-python BrokerConnection; returns the
    decoded response."""
    host, port = bootstrap.rsplit(":", 1)
    conn = BrokerConnection(host, int(port), socket.AF_INET, api_version=(2, 5, 0),
                            request_timeout_ms=timeout_s * 1000)
    try:
        assert conn.connect_blocking(timeout=timeout_s), f"cannot connect to {bootstrap}"
        future = conn.send(request, blocking=True)
        deadline = time.monotonic() + timeout_s
        while not future.is_done and time.monotonic() < deadline:
            for response, f in conn.recv():
                f.success(response)
            time.sleep(0.01)
        assert future.is_done, "no answer in time"
        if future.failed():
            raise future.exception
        return future.value
    finally:
        conn.close()
