#!/usr/bin/env python3
"""Build a Maildir of N unique bounces from the templates in corpus/.

Each message is a corpus message (dsn, global, arf, broken, text) whose
Message-ID and recipient addresses are replaced by unique ones, so that no
two messages share a fingerprint or a recipient.  File mtimes are set to a
fixed time so runs are reproducible.
Usage: gen-maildir.py MAILDIR N [--corpus DIR] [--only dsn,text,...]"""
import argparse, os, re, sys

ap = argparse.ArgumentParser()
ap.add_argument("maildir")
ap.add_argument("n", type=int)
ap.add_argument("--corpus", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus"))
ap.add_argument("--only", default="dsn,global,arf,broken,text")
a = ap.parse_args()

templates = []
for folder in a.only.split(","):
    d = os.path.join(a.corpus, folder)
    if not os.path.isdir(d):
        continue
    for f in sorted(os.listdir(d)):
        if not f.endswith(".eml"):
            continue
        exp = os.path.join(d, f[:-4] + ".expected")
        rcpts = []
        if os.path.exists(exp):
            for line in open(exp, encoding="utf-8", errors="replace"):
                line = line.strip()
                if line and not line.startswith("#") and "@" in line.split()[0]:
                    rcpts.append(line.split()[0])
        raw = open(os.path.join(d, f), "rb").read()
        templates.append((raw, rcpts))
if not templates:
    sys.exit("no templates under " + a.corpus)

for sub in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(a.maildir, sub), exist_ok=True)
mid = re.compile(rb"^(Message-ID:\s*<)[^>]*(>)", re.I | re.M)
t0 = 1795000000
for i in range(a.n):
    raw, rcpts = templates[i % len(templates)]
    data = mid.sub(lambda m: m.group(1) + b"bench-%d@gen.example" % i + m.group(2), raw, count=1)
    for k, r in enumerate(rcpts):
        local, _, dom = r.partition("@")
        new = b"u%dr%d@%s" % (i, k, dom.encode("utf-8"))
        data = re.sub(re.escape(r.encode("utf-8")), new, data, flags=re.I)
    path = os.path.join(a.maildir, "new", "%d.M%dP1.bench" % (t0 + i, i))
    with open(path, "wb") as fh:
        fh.write(data)
    os.utime(path, (t0, t0))
print("%d messages from %d templates in %s" % (a.n, len(templates), a.maildir))
