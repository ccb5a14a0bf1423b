#!/usr/bin/env python3
"""End-to-end self-test of kernel-check.sh, with no Java project: a hand-written pool (thin_dump XML ->
thin_restore), a data file with known bytes, and expected device hashes computed here from our own model
(not from thin_dump). Then the kernel writes (snapshot, CoW, provisioning, discard, delete, metadata snapshot)
and we check thin_check, thin_dump and the kernel's read-back against the model.

Usage: selftest.py [--keep DIR] [--save-vector DIR]
Prints one line per check and 'N passed, M failed'; exit status 1 if any check failed."""
import gzip, hashlib, os, random, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
from kc_helper import stamp  # noqa: E402

BS_SECTORS = 128
BLK = BS_SECTORS * 512
NR_DATA = 1024
results = []


def check(name, cond, detail=""):
    results.append(cond)
    print(f"{'PASS' if cond else 'FAIL'} {name}{'' if cond else ': ' + detail}", flush=True)


def data_block_bytes(d):
    # Compressible but unique per 32 bytes: 'data <d> line <i>' lines.
    return b"".join(f"data {d} line {i}".ljust(31).encode() + b"\n" for i in range(BLK // 32))


def hand_pool():
    """The hand-written pool: {dev: {vblock: dblock}}, plus per-device times, as thin_dump XML."""
    devs = {}
    d1 = {v: v for v in range(16)}            # a range 0-15 -> 0-15
    d1[20] = 100                              # a single mapping
    d1[1000] = 200                            # a far key
    devs[1] = d1
    d2 = {v: d1[v] for v in range(8)}         # snapshot of 1 (time 1): shares 0-7 ...
    d2.update({v: 300 + v - 8 for v in range(8, 16)})   # ... and was written at 8-15 (own blocks 300-307)
    d2[20] = 100
    devs[2] = d2
    devs[3] = {}                              # an empty device
    rnd = random.Random(4)
    vbs = sorted(rnd.sample(range(4096), 300))  # 300 mappings: more than one leaf, so an internal node
    free = [d for d in range(400, NR_DATA)]
    devs[4] = {v: free[i] for i, v in enumerate(vbs)}
    times = {1: (0, 1), 2: (1, 1), 3: (1, 1), 4: (1, 1)}   # (creation_time, snap_time)
    mtime = {2: {v: 1 for v in range(8, 16)}}
    lines = [f'<superblock uuid="" time="1" transaction="1" flags="0" version="2" '
             f'data_block_size="{BS_SECTORS}" nr_data_blocks="{NR_DATA}">']
    for dev, m in devs.items():
        ct, st = times[dev]
        lines.append(f'  <device dev_id="{dev}" mapped_blocks="{len(m)}" transaction="0" '
                     f'creation_time="{ct}" snap_time="{st}">')
        keys = sorted(m)
        i = 0
        while i < len(keys):  # emit runs as range_mapping, lone blocks as single_mapping
            j = i
            t = mtime.get(dev, {}).get(keys[i], 0)
            while (j + 1 < len(keys) and keys[j + 1] == keys[j] + 1 and m[keys[j + 1]] == m[keys[j]] + 1
                   and mtime.get(dev, {}).get(keys[j + 1], 0) == t):
                j += 1
            if j > i:
                lines.append(f'    <range_mapping origin_begin="{keys[i]}" data_begin="{m[keys[i]]}" '
                             f'length="{j - i + 1}" time="{t}"/>')
            else:
                lines.append(f'    <single_mapping origin_block="{keys[i]}" data_block="{m[keys[i]]}" time="{t}"/>')
            i = j + 1
        lines.append('  </device>')
    lines.append('</superblock>')
    return devs, "\n".join(lines) + "\n"


def device_image(mapping, nblocks):
    img = bytearray(nblocks * BLK)
    for v, d in mapping.items():
        if v < nblocks:
            img[v * BLK:(v + 1) * BLK] = data_block_bytes(d)
    return img


def sha(b):
    return hashlib.sha256(b).hexdigest()


def run(cmd, **kw):
    print("RUN " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    for line in r.stdout.splitlines():
        if not line.startswith("DMESG"):
            print("  | " + line)
    if r.stderr.strip():
        print("  ! " + r.stderr.strip().replace("\n", "\n  ! "))
    return r


def kernel_hashes(out):
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^DEV (\d+) ([0-9a-f]{64})$", out, re.M)}


def main():
    args = sys.argv[1:]
    keep = args[args.index("--keep") + 1] if "--keep" in args else None
    save = args[args.index("--save-vector") + 1] if "--save-vector" in args else None
    tmp = keep or tempfile.mkdtemp(prefix="kc-selftest.")
    os.makedirs(tmp, exist_ok=True)
    kc = os.path.join(HERE, "kernel-check.sh")
    meta, data, xml = (os.path.join(tmp, n) for n in ("pool.meta", "pool.data", "hand.xml"))

    # 1. hand-written pool -> thin_restore; data file with known bytes at the mapped data blocks
    devs, text = hand_pool()
    open(xml, "w").write(text)
    with open(meta, "wb") as f:
        f.truncate(4 << 20)
    r = run(["thin_restore", "-i", xml, "-o", meta])
    check("thin_restore accepts the hand-written XML", r.returncode == 0, r.stderr)
    with open(data, "wb") as f:
        f.truncate(NR_DATA * BLK)
        for d in sorted({d for m in devs.values() for d in m.values()}):
            f.seek(d * BLK); f.write(data_block_bytes(d))
    sizes = {1: 1001, 2: 21, 3: 1, 4: 4096}   # virtual sizes in blocks
    want = {dev: sha(device_image(devs[dev], sizes[dev])) for dev in devs}

    # 2. the kernel reads the pool (read-only: snapshot=on)
    before = open(meta, "rb").read()
    r = run([kc, meta, data, str(BS_SECTORS)] + [f"{d}:{sizes[d] * BS_SECTORS}" for d in sorted(devs)])
    got = kernel_hashes(r.stdout)
    check("kernel activates the thin_restore pool (exit 0)", r.returncode == 0, r.stdout[-2000:])
    for dev in sorted(devs):
        check(f"kernel's device {dev} equals the model", got.get(dev) == want[dev], f"{got.get(dev)} != {want[dev]}")
    check("read-only run left the metadata untouched", open(meta, "rb").read() == before)
    r = run([kc, meta, data, "--verify"])   # auto-discovered devices; thin_dump+data view vs the kernel
    check("auto-discovery + --verify (kernel == thin_dump+data)", r.returncode == 0 and r.stdout.count("VERIFY") == 4
          and "MISMATCH" not in r.stdout, r.stdout[-2000:])

    # 3. the kernel writes: snapshot + CoW, origin write, reserve_metadata_snap, new thin with 300 partial-block
    #    provisions, discard, delete of a snapshot sharing blocks, transaction id
    model = {d: dict(m) for d, m in devs.items()}
    img1 = device_image(devs[1], sizes[1])
    img9 = bytearray(img1)
    img9[40000:240000] = stamp(9, 40000, 200000)
    img1[0:BLK] = b"\xee" * BLK
    rnd = random.Random(5)
    img5 = bytearray(1024 * BLK)
    ops = ["snap 9 1", "activate 9", "write 9 40000 200000 stamp", "write 1 0 65536 0xEE", "hash 9", "hash 1",
           "msg reserve_metadata_snap", "create_thin 5", f"activate 5 {1024 * BS_SECTORS}"]
    for vb in sorted(rnd.sample(range(1024), 300)):
        off, fill = vb * BLK + (vb % 16) * 4096, vb % 255 + 1
        ops.append(f"write 5 {off} 4096 {fill}")
        img5[off:off + 4096] = bytes([fill]) * 4096
    ops += ["discard 5 0 4194304", "hash 5", "delete 2", "msg set_transaction_id 1 2", "status"]
    img5[0:4194304] = bytes(4194304)
    opsfile = os.path.join(tmp, "ops")
    open(opsfile, "w").write("\n".join(ops) + "\n")
    r = run([kc, meta, data, "1:%d" % (sizes[1] * BS_SECTORS), "4:%d" % (sizes[4] * BS_SECTORS), "--ops", opsfile])
    got = kernel_hashes(r.stdout)
    check("kernel write run succeeds and thin_check passes (exit 0)", r.returncode == 0 and "THIN_CHECK ok" in r.stdout,
          r.stdout[-3000:])
    check("kernel's snapshot 9 after CoW writes equals the model", got.get(9) == sha(img9))
    check("kernel's origin 1 after its own write equals the model", list(re.findall(r"^DEV 1 (\S+)$", r.stdout, re.M))[-1:] == [sha(img1)])
    check("kernel's new thin 5 (300 partial provisions, discard) equals the model", got.get(5) == sha(img5))
    r2 = subprocess.run(["thin_check", meta], capture_output=True, text=True)
    check("thin_check passes on kernel-written metadata", r2.returncode == 0, r2.stderr)
    dump = subprocess.run(["thin_dump", meta], capture_output=True, text=True).stdout
    open(os.path.join(tmp, "kernel.dump.xml"), "w").write(dump)
    ids = sorted(int(x) for x in re.findall(r'dev_id="(\d+)"', dump))
    check("thin_dump of kernel metadata lists devices 1 3 4 5 9", ids == [1, 3, 4, 5, 9], str(ids))
    exp5 = sum(1 for vb in range(64, 1024) if any(img5[vb * BLK:(vb + 1) * BLK]))
    m = re.search(r'dev_id="5" mapped_blocks="(\d+)"', dump)
    check("device 5 mapped_blocks equals the model", m is not None and int(m.group(1)) == exp5, f"{m and m.group(1)} != {exp5}")
    check("transaction id is 2", 'transaction="2"' in dump.splitlines()[0], dump.splitlines()[0])
    snapdump = subprocess.run(["thin_dump", "-m", meta], capture_output=True, text=True)
    check("thin_dump -m reads the kernel's metadata snapshot (devices 1 2 3 4 9)",
          snapdump.returncode == 0 and sorted(int(x) for x in re.findall(r'dev_id="(\d+)"', snapdump.stdout)) == [1, 2, 3, 4, 9],
          snapdump.stderr + snapdump.stdout[:300])
    open(os.path.join(tmp, "kernel.metasnap.dump.xml"), "w").write(snapdump.stdout)

    # 4. the kernel re-reads what it wrote; userspace (thin_dump + data) agrees with it and with the model
    r = run([kc, meta, data, "1:%d" % (sizes[1] * BS_SECTORS), "9:%d" % (sizes[1] * BS_SECTORS),
             "5:%d" % (1024 * BS_SECTORS), "4:%d" % (sizes[4] * BS_SECTORS), "--verify"])
    got = kernel_hashes(r.stdout)
    check("kernel re-reads its own pool, --verify agrees", r.returncode == 0 and "MISMATCH" not in r.stdout, r.stdout[-2000:])
    check("re-read hashes equal the model", got == {1: sha(img1), 9: sha(img9), 5: sha(img5), 4: want[4]}, str(got))

    if save:
        os.makedirs(save, exist_ok=True)
        shutil.copy(xml, os.path.join(save, "kernel-ops.start.xml"))
        shutil.copy(meta, os.path.join(save, "kernel-ops.meta"))
        shutil.copy(os.path.join(tmp, "kernel.dump.xml"), os.path.join(save, "kernel-ops.dump.xml"))
        shutil.copy(os.path.join(tmp, "kernel.metasnap.dump.xml"), os.path.join(save, "kernel-ops.metasnap.dump.xml"))
        shutil.copy(opsfile, os.path.join(save, "kernel-ops.ops"))
        with open(data, "rb") as f, gzip.open(os.path.join(save, "kernel-ops.data.gz"), "wb", 9) as g:
            shutil.copyfileobj(f, g)
        with open(os.path.join(save, "kernel-ops.sha256"), "w") as f:
            for dev, img in ((1, img1), (4, device_image(devs[4], sizes[4])), (5, img5), (9, img9)):
                f.write(f"{dev} {len(img) // 512} {sha(img)}\n")
        print(f"saved vector to {save}")
    if not keep:
        shutil.rmtree(tmp)
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
