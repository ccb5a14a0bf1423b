package org.thinfs.core.thin;

import org.thinfs.core.format.BlockTime;

import java.util.Collection;
import java.util.TreeSet;

/**
 * Sharing data blocks between devices without a snapshot (copy_file_range, copies by ordinary tools), by dm-thin's
 * rule that a mapping stamped before its device's snapshot time is shared and copied on its next write.
 *
 * <p>Every device that shares must count as snapshotted after the mappings it shares were stamped. Advancing the
 * pool's time for each step that shares would do it, but mappings keep only 24 bits of time, and a pool whose time
 * passes 2^24 copies on every write from then on; rsync-style copies share a block per step. So the time advances
 * only when it must: when a device involved was not yet marked at the current time T by sharing itself (a snapshot at
 * T, or an earlier time, or a reopened pool). Otherwise the new mapping, and a source mapping written since (stamped
 * T), are stamped T - 1, which is still after every snapshot of either device (those advanced the time past theirs),
 * so "stamped at or after a snapshot's time" keeps meaning "written since that snapshot".
 */
public final class BlockSharing {
    private final ThinMetadata md;
    /** The time the last advance made by sharing reached, or -1: only then may a step share without advancing. */
    private int sharedAt = -1;

    BlockSharing(ThinMetadata md) {
        this.md = md;
    }

    /** Called when the metadata reloads (open, abort): the marks of the forgotten transaction go with it. */
    void forget() {
        sharedAt = -1;
    }

    /**
     * Makes every device of {@code devices} count as snapshotted at the current time, advancing it once if any
     * does not yet (or if the current time was not reached by sharing). Call before {@link #share} in a step.
     */
    public void prepare(Collection<Long> devices) {
        int t = md.time();
        boolean ready = t > 0 && t == sharedAt;
        for (long id : new TreeSet<>(devices)) {
            ready &= md.details(id).snapshottedTime() == t;
        }
        if (ready) {
            return;
        }
        int now = md.advanceTime();
        for (long id : new TreeSet<>(devices)) {
            md.putDetails(id, md.details(id).withSnapshottedTime(now));
        }
        sharedAt = now;
    }

    /**
     * Maps {@code dst}'s {@code dstBlock} to the data block {@code src} maps at {@code srcBlock}: its count goes up
     * by one, the block {@code dst} mapped there before (if another) is released, and both mappings end stamped
     * before the current time, so both sides copy on their next write. Both devices must have been given to
     * {@link #prepare} in this step.
     *
     * @return true when the destination's mapping changed; false when it already mapped that block, or the source
     *     maps nothing there
     */
    public boolean share(long src, long srcBlock, long dst, long dstBlock) {
        long from = md.lookup(src, srcBlock);
        if (from == -1) {
            return false;
        }
        int stamp = md.time() - 1;
        long data = BlockTime.dataBlock(from);
        if (BlockTime.time(from) > stamp) {             // written since the mark: restamp, same block, same count
            md.dataSpace().inc(data);                  // the insert below releases the old value's count
            md.insertStamped(src, srcBlock, data, stamp);
        }
        long now = md.lookup(dst, dstBlock);
        if (now != -1 && BlockTime.dataBlock(now) == data) {
            if (BlockTime.time(now) > stamp) {
                md.dataSpace().inc(data);
                md.insertStamped(dst, dstBlock, data, stamp);
            }
            return false;
        }
        md.dataSpace().inc(data);
        md.insertStamped(dst, dstBlock, data, stamp);
        return true;
    }
}
