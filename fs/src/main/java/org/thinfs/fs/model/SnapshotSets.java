package org.thinfs.fs.model;

import org.thinfs.core.pool.ThinPool;

import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.function.LongConsumer;

/**
 * What front ends call for snapshot sets ({@code thinfs snapshot}, rollback, hold, prune, bookmark, and the control
 * socket's equivalents): each change is committed before its call returns, as {@link PoolFileSystem}'s name changes
 * are. The work itself is done under the namespace monitor by {@link SnapshotSetTaker} (taking sets) and
 * {@link SnapshotWorkflows} (everything after); this class only adds the commit and what must run outside the
 * monitor. {@code mkdir snapshots/NAME} is a name change and stays with PoolFileSystem#mkdir.
 */
public final class SnapshotSets {
    private final ThinPool pool;
    private final Namespace names;
    private final SnapshotWorkflows workflows;
    private final CatalogCommit commits;
    /** Told each device whose bytes a rollback replaced under its open handles (PoolFileSystem's cache invalidator). */
    private final LongConsumer changedUnderHandles;

    SnapshotSets(ThinPool pool, Namespace names, LongConsumer changedUnderHandles) {
        this.pool = pool;
        this.names = names;
        this.workflows = new SnapshotWorkflows(names);
        this.commits = names.commits();
        this.changedUnderHandles = changedUnderHandles;
    }

    /**
     * {@code thinfs snapshot POOL NAME [VOLUME...]}: the snapshot set {@code snapshots/NAME} of the named volumes
     * (all when {@code volumes} is empty), in one metadata step as {@code mkdir snapshots/NAME} takes it.
     */
    public void take(String set, List<String> volumes) {
        take(set, volumes, null, null, null);
    }

    /**
     * As {@link #take(String, List)}, recording what the set is for ({@code description}, null: nothing) and its
     * type: "auto" (the schedule), "pre", or "post" closing pre set {@code pre} (snapper's pairs); null: none.
     */
    public void take(String set, List<String> volumes, String description, String type, String pre) {
        names.setTaker().take(set, volumes.isEmpty() ? null : volumes, description, type, pre);
        commits.commitChange();
    }

    /** Adds {@code volume} to existing snapshot set {@code set} (an import joining a set another import made). */
    public void addTo(String set, String volume) {
        names.setTaker().addTo(set, volume);
        commits.commitChange();
    }

    /**
     * {@code thinfs rollback}: the named volumes of set {@code set} (all when empty) get the snapshot's bytes and size
     * in place, keeping name and device id. See SnapshotWorkflows#rollback.
     */
    public void rollback(String set, List<String> volumes, boolean force, String keepAs) {
        List<Long> ids = workflows.rollback(set, volumes, force, keepAs);
        pool.freeDeleted();                            // the old trees, outside the namespace's monitor
        commits.commitChange();
        ids.forEach(changedUnderHandles::accept);
    }

    /** {@code thinfs hold}: tag {@code tag} keeps set {@code set} from removal. */
    public void hold(String set, String tag) {
        workflows.hold(set, tag);
        commits.commitChange();
    }

    public void release(String set, String tag) {
        workflows.release(set, tag);
        commits.commitChange();
    }

    /** Held snapshot sets and their tags. */
    public SortedMap<String, SortedSet<String>> holds() {
        return workflows.holds();
    }

    /**
     * {@code thinfs prune}: removes the snapshot sets matching {@code glob} that {@code policy} does not keep, held
     * sets never (dry run: removes nothing).
     */
    public SnapshotWorkflows.PrunePlan prune(Retention policy, String glob, boolean dryRun, java.time.ZoneId zone) {
        SnapshotWorkflows.PrunePlan plan = workflows.planPrune(policy, glob, zone);
        if (!dryRun) {
            for (String set : plan.remove()) {
                removeUncommitted(set);
            }
            commits.commitChange();
        }
        return plan;
    }

    /** Removes snapshot set {@code set} whole (refused for a held set). */
    public void remove(String set) {
        removeUncommitted(set);
        commits.commitChange();
    }

    /** Removes snapshot set {@code set} and its members, as rm -r does (one member at a time, then the set). */
    private void removeUncommitted(String set) {
        for (String v : workflows.members(set)) {
            names.unlink("/" + FsPath.SNAPSHOTS + "/" + set + "/" + v);
        }
        names.rmdir("/" + FsPath.SNAPSHOTS + "/" + set);
    }

    /** {@code thinfs bookmark}: keeps what incrementals from set {@code set} need. */
    public void bookmark(String set, String name) {
        workflows.bookmark(set, name);
        commits.commitChange();
    }

    public void deleteBookmark(String name) {
        workflows.deleteBookmark(name);
        commits.commitChange();
    }

    public SortedMap<String, Catalog.Bookmark> bookmarks() {
        return workflows.bookmarks();
    }

    /** The bookmark volume an incremental to {@code target} starts from, checked (SnapshotWorkflows#bookmarkFor). */
    public Catalog.BookmarkVolume bookmarkFor(String name, String volume, String target) {
        return workflows.bookmarkFor(name, volume, target);
    }
}
