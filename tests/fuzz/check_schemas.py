#!/usr/bin/env python3
"""Cross-checks DMQ's Kafka codec against Kafka's JSON message schemas.

Usage: check_schemas.py <schemas-dir> <samples.txt>

<schemas-dir> holds Kafka's clients/src/main/resources/common/message/*.json;
<samples.txt> is written by kafka_fuzz_corpus (one "<key> <version> <q|s> <hex>"
line per sample body). Each body is decoded by this independent, schema-driven
decoder, which must consume it exactly: a field missing, misplaced or present
in the wrong versions in DMQ's serde functions shows up as a failure here.
Exit status 1 if any sample fails.
"""
import glob
import json
import re
import sys

PRIMITIVE_SIZES = {'int8': 1, 'int16': 2, 'int32': 4, 'int64': 8, 'uint16': 2, 'uint32': 4,
                   'float64': 8, 'bool': 1, 'uuid': 16, 'string': 0, 'bytes': 0, 'records': 0}


def in_versions(spec, v):
    if spec is None or spec == 'none':
        return False
    if spec.endswith('+'):
        return v >= int(spec[:-1])
    if '-' in spec:
        lo, hi = spec.split('-')
        return int(lo) <= v <= int(hi)
    return v == int(spec)


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError('truncated at %d (need %d)' % (self.pos, n))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uvarint(self):
        value, shift = 0, 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    def int(self, n):
        return int.from_bytes(self.take(n), 'big', signed=True)


def read_primitive(r, typ, flexible, nullable, name):
    if PRIMITIVE_SIZES[typ]:
        r.take(PRIMITIVE_SIZES[typ])
        return
    if flexible:
        n = r.uvarint() - 1
    else:
        n = r.int(2) if typ == 'string' else r.int(4)
    if n == -1:
        if not nullable:
            raise ValueError('null in non-nullable ' + name)
        return
    if n < -1:
        raise ValueError('negative length in ' + name)
    r.take(n)


def read_field(r, field, v, flexible, structs):
    typ = field['type']
    nullable = in_versions(field.get('nullableVersions'), v)
    if typ.startswith('[]'):
        n = r.uvarint() - 1 if flexible else r.int(4)
        if n < 0:
            if not nullable:
                raise ValueError('null array ' + field['name'])
            return
        element = typ[2:]
        for _ in range(n):
            if element in PRIMITIVE_SIZES:
                read_primitive(r, element, flexible, False, field['name'])
            else:
                read_struct(r, field.get('fields') or structs[element], v, flexible, structs)
    elif typ in PRIMITIVE_SIZES:
        read_primitive(r, typ, flexible, nullable, field['name'])
    else:
        read_struct(r, field.get('fields') or structs[typ], v, flexible, structs)


def read_struct(r, fields, v, flexible, structs):
    tagged = {}
    for f in fields:
        if not in_versions(f.get('versions'), v):
            continue
        if 'tag' in f and flexible and in_versions(f.get('taggedVersions'), v):
            tagged[f['tag']] = f
            continue
        read_field(r, f, v, flexible, structs)
    if not flexible:
        return
    last = -1
    for _ in range(r.uvarint()):
        tag, size = r.uvarint(), r.uvarint()
        payload = r.take(size)
        if tag <= last:
            raise ValueError('tags not in ascending order')
        last = tag
        if tag in tagged:
            sub = Reader(payload)
            read_field(sub, tagged[tag], v, True, structs)
            if sub.pos != len(payload):
                raise ValueError('tag %d size mismatch' % tag)


def load_schemas(directory):
    schemas = {}
    for path in glob.glob(directory + '/*.json'):
        with open(path) as f:
            doc = json.loads(re.sub(r'//.*', '', f.read()))
        if 'apiKey' in doc:
            schemas[(doc['apiKey'], doc['type'])] = doc
    return schemas


def struct_table(doc):
    structs = {c['name']: c['fields'] for c in doc.get('commonStructs', [])}

    def collect(fields):
        for f in fields:
            if 'fields' in f:
                structs[f['type'].lstrip('[]')] = f['fields']
                collect(f['fields'])
    collect(doc['fields'])
    return structs


def main():
    schemas = load_schemas(sys.argv[1])
    checked = failed = 0
    with open(sys.argv[2]) as samples:
        for line in samples:
            parts = line.split()
            key, version, kind = int(parts[0]), int(parts[1]), parts[2]
            body = bytes.fromhex(parts[3] if len(parts) > 3 else '')
            doc = schemas[(key, 'request' if kind == 'q' else 'response')]
            flexible = in_versions(doc['flexibleVersions'], version)
            r = Reader(body)
            checked += 1
            try:
                read_struct(r, doc['fields'], version, flexible, struct_table(doc))
                if r.pos != len(body):
                    raise ValueError('%d trailing bytes' % (len(body) - r.pos))
            except (ValueError, KeyError) as e:
                failed += 1
                print('%s v%d: %s' % (doc['name'], version, e))
    print('checked %d samples, %d failed' % (checked, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
