#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Compare the VMX fuzzer's record streams: bare Bochs (the reference) against umbra.

usage: tools/fuzz_compare.py BARE UMBRA [--max-report N]

BARE and UMBRA are files holding the fuzz guest's port-0xE9 output (Bochs's
stdout: boot.sh's emulator.log), mixed with anything else Bochs printed.
Only record lines count (docs/fuzzing.md): "S <seed> view=<digest>",
"R <seed>.<step> <kind> a=... r=...", "E <seed> records=<n> vmx=<n>" and
the closing "F seeds=... vmx_instructions=...".

A seed diverges at its first record that differs; its later records are not
compared (they follow from the first difference). A seed whose records the
umbra stream lacks (it stopped early) is "missing", not a divergence.
Prints each divergence (up to --max-report) with seed, step and both records,
then one line:
  COMPARE seeds=N records=R divergences=D missing=M vmx_instructions=K
(K from the umbra stream's F line, else the sum of its E lines). Exit status 0
when D is 0, 1 otherwise, 2 on bad input.
"""
import re
import sys

RECORD = re.compile(r'^([SREF]) (.*)$')


def parse(path):
    """Records per seed, in order, plus the F line and the E lines' vmx counts."""
    seeds, order, final, vmx = {}, [], None, 0
    current = None
    with open(path, 'r', errors='replace') as f:
        for line in f:
            line = line.rstrip('\r\n')
            m = RECORD.match(line)
            if not m:
                continue
            tag, rest = m.groups()
            if tag == 'F':
                final = line
                continue
            try:
                seed = int(rest.split()[0].split('.')[0])
            except ValueError:
                continue
            if tag == 'S':
                current = seed
                seeds[seed] = [line]
                order.append(seed)
                continue
            if seed not in seeds:  # a record of a seed whose S line is missing
                seeds[seed] = []
                order.append(seed)
            seeds[seed].append(line)
            if tag == 'E':
                m2 = re.search(r' vmx=(\d+)', line)
                if m2:
                    vmx += int(m2.group(1))
    return seeds, order, final, vmx


def step_of(line):
    m = re.match(r'^R \d+\.(\d+) ', line)
    return m.group(1) if m else line.split()[0]


def main(argv):
    args = [a for a in argv[1:] if not a.startswith('--')]
    max_report = 10
    for i, a in enumerate(argv):
        if a == '--max-report' and i + 1 < len(argv):
            max_report = int(argv[i + 1])
            args = [x for x in args if x != argv[i + 1]]
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    bare, b_order, _, _ = parse(args[0])
    umbra, _, u_final, u_vmx = parse(args[1])
    if not b_order:
        print(f'fuzz_compare: no records in {args[0]}', file=sys.stderr)
        return 2
    if u_final:
        m = re.search(r'vmx_instructions=(\d+)', u_final)
        if m:
            u_vmx = int(m.group(1))
    divergences = missing = records = reported = 0
    for seed in b_order:
        b = bare[seed]
        u = umbra.get(seed)
        records += sum(1 for r in b if r.startswith('R '))
        if u is None:
            missing += 1
            continue
        for i, rec in enumerate(b):
            if i >= len(u):
                missing += 1  # umbra stopped inside this seed
                break
            if rec != u[i]:
                divergences += 1
                if reported < max_report:
                    reported += 1
                    print(f'DIVERGENCE seed={seed} step={step_of(rec)}')
                    print(f'  bare:  {rec}')
                    print(f'  umbra: {u[i]}')
                break
    print(f'COMPARE seeds={len(b_order)} records={records} divergences={divergences} '
          f'missing={missing} vmx_instructions={u_vmx}')
    return 1 if divergences else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
