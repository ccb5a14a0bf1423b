package org.thinfs.core.sm;

/**
 * Reference counts for an array of blocks (metadata blocks or data blocks); count 0 means free.
 *
 * <p>Contract, as the kernel's {@code dm_space_map}:
 * <ul>
 *   <li>A block is handed out by {@link #allocate()} only if it is free now <em>and</em> was free in the last
 *       committed state, so a block freed in this transaction is never reused before {@link #commit()}: a crash
 *       or rollback may still need its old content.</li>
 *   <li>{@link #nrFree()} counts only what can be allocated now (free in both states).</li>
 *   <li>{@link #dec(long)} of a block whose count is 0 is a corruption and throws.</li>
 *   <li>The threshold callback runs once each time {@link #nrFree()} falls to or below its mark.</li>
 * </ul>
 */
public interface SpaceMap {
    long nrBlocks();

    /** Blocks that {@link #allocate()} could hand out now. */
    long nrFree();

    /** Blocks whose current count is above zero. */
    long nrAllocated();

    int count(long block);

    default boolean countIsMoreThanOne(long block) {
        return count(block) > 1;
    }

    void inc(long block);

    void dec(long block);

    /** Sets the count of {@code block} directly (used by restore and repair). */
    void setCount(long block, int count);

    /**
     * Finds a block free in both the current and the committed state, sets its count to 1 and returns it.
     *
     * @throws org.thinfs.core.ThinfsException subclass naming the space that ran out
     */
    long allocate();

    /** Adds {@code extra} blocks, all free. */
    void extend(long extra);

    /** Calls {@code callback} once whenever the free count drops to {@code freeBlocks} or below. */
    void setThreshold(long freeBlocks, Runnable callback);
}
