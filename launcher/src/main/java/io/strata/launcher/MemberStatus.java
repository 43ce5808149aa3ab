package io.strata.launcher;

/** One row of {@code strata cluster status}: a member, its process (pid 0 when none runs) and its health. */
public record MemberStatus(Member member, long pid, Health health) {
    public enum Health {
        /** Running and answering its readiness check. */
        UP,
        /** Running, not (yet) ready: starting, or unable to reach what it needs. */
        NOT_READY,
        /** No process. */
        DOWN;

        public String label() {
            return this == NOT_READY ? "not ready" : name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
