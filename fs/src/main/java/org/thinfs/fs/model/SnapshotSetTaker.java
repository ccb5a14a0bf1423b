package org.thinfs.fs.model;

import org.thinfs.fs.model.Catalog.Entry;
import org.thinfs.fs.model.Catalog.SnapshotSet;
import org.thinfs.fs.model.FsException.Code;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Takes snapshot sets ({@code mkdir snapshots/NAME}, {@code thinfs snapshot}): the chosen volumes snapshotted in one
 * metadata step (ThinPool#createSnapshots, no write between them, so the set is consistent across volumes), each
 * member recorded with its origin. Every operation runs under the namespace's monitor, checks everything before it
 * changes anything, and marks the catalog; making it durable is the caller's next step, as for every name change.
 */
final class SnapshotSetTaker {
    private static final List<String> TYPES = List.of("auto", "pre", "post");

    private final Namespace ns;

    SnapshotSetTaker(Namespace ns) {
        this.ns = ns;
    }

    /**
     * Takes set {@code name} of the volumes {@code only} names (null: every volume), with a description (null or
     * empty: none) and a type (null, "auto", "pre", or "post" closing the "pre" set {@code pre}).
     */
    void take(String name, List<String> only, String description, String type, String pre) {
        synchronized (ns) {
            Catalog.Document doc = ns.doc();
            ns.requireNames();
            Names.check(name);
            if (type != null && !TYPES.contains(type)) {
                throw new FsException(Code.EINVAL, "a snapshot set's type is auto, pre or post, not " + type);
            }
            if ("post".equals(type)) {
                SnapshotSet p = doc.snapshots.get(pre);
                if (p == null || !"pre".equals(p.type)) {
                    throw new FsException(Code.EINVAL, "--post names the pre set it closes, and " + pre + " is "
                            + (p == null ? "no snapshot set" : "not a pre set"));
                }
            }
            if (doc.snapshots.containsKey(name)) {
                throw new FsException(Code.EEXIST, "snapshot set " + name + " exists");
            }
            if (only != null) {
                for (String v : only) {
                    if (!doc.volumes.containsKey(v)) {
                        throw new FsException(Code.ENOENT, "no volume named " + v);
                    }
                }
            }
            ns.ensureUuid();                           // a snapshot can be a diff stream's base: name its pool
            SnapshotSet set = new SnapshotSet();
            set.created = System.currentTimeMillis();
            set.description = description == null || description.isEmpty() ? null : description;
            set.type = type;
            set.pre = "post".equals(type) ? pre : null;
            List<Map.Entry<String, Entry>> taken = new ArrayList<>();
            for (Map.Entry<String, Entry> v : doc.volumes.entrySet()) {
                if (only == null || only.contains(v.getKey())) {
                    taken.add(v);
                }
            }
            long[] ids = ns.freeIds(taken.size());
            List<long[]> pairs = new ArrayList<>();
            for (int i = 0; i < ids.length; i++) {
                Entry origin = taken.get(i).getValue();
                pairs.add(new long[]{ids[i], origin.id});
                set.volumes.put(taken.get(i).getKey(), member(origin, ids[i]));
            }
            if (!pairs.isEmpty()) {
                ns.pool().createSnapshots(pairs);
            }
            set.volumes.values().forEach(ns::attachBase);
            doc.snapshots.put(name, set);
            ns.commits().mark();
        }
    }

    /**
     * Adds {@code volume} to the existing snapshot set {@code set} (an import with --snapshot into a set that an
     * import of another volume made). Refused when the set already holds it.
     */
    void addTo(String set, String volume) {
        synchronized (ns) {
            ns.requireNames();
            SnapshotSet s = ns.set(set);
            if (s.volumes.containsKey(volume)) {
                throw new FsException(Code.EEXIST, "snapshot set " + set + " already holds " + volume);
            }
            Entry origin = ns.doc().volumes.get(volume);
            if (origin == null) {
                throw new FsException(Code.ENOENT, "no volume named " + volume);
            }
            long id = ns.freeIds(1)[0];
            ns.pool().createSnapshot(id, origin.id);
            Entry member = member(origin, id);
            s.volumes.put(volume, member);
            ns.attachBase(member);
            ns.commits().mark();
        }
    }

    /** The catalog entry of device {@code id}, a snapshot of {@code origin}: its owner and times are the origin's. */
    private Entry member(Entry origin, long id) {
        Entry member = origin.copy();
        member.id = id;
        member.origin = origin.id;
        member.originCreated = ns.pool().maps().details(origin.id).creationTime();
        return member;
    }
}
