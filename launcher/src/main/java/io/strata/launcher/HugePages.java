package io.strata.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The JVM's heap on transparent huge pages, where the kernel gives them to a process that asks
 * ({@code madvise}, the default of most distributions) or to every process ({@code always}).
 *
 * <p>Why: a young JVM grows its heap, and every 4 KiB page of it faults the first time it is written. In a
 * profile of a share group on a fresh {@code ./strata server} (this project's 2-core virtual machine, where a
 * fault is costly), half of the time spent decoding records, and of the bench client's copying them, was the
 * kernel handling those faults. With 2 MiB pages there are 512 times fewer: node and client spent 21 % less CPU
 * on the same paced run, and a node was ready 0.3 s sooner (docs/benchmarks.md, "Transparent huge pages").
 * Where the kernel has them off ({@code never}) or lacks them, the option is left out: the JVM would only warn.
 */
public final class HugePages {
    /** Added before a role's own options, so that a later {@code -XX:-UseTransparentHugePages} there wins. */
    public static final String OPTION = "-XX:+UseTransparentHugePages";
    /** Where Linux says how it gives out transparent huge pages. */
    static final Path SETTING = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    private HugePages() {
    }

    /** The option, when this machine's kernel gives huge pages on request; none otherwise. */
    public static List<String> jvmOptions() {
        return jvmOptions(SETTING);
    }

    static List<String> jvmOptions(Path setting) {
        try {
            return offered(Files.readString(setting)) ? List.of(OPTION) : List.of();
        } catch (IOException | RuntimeException e) {
            return List.of(); // not Linux, or no transparent huge pages in this kernel
        }
    }

    /** Whether the kernel's setting ({@code always [madvise] never}: the chosen one in brackets) gives them. */
    static boolean offered(String setting) {
        return setting.contains("[madvise]") || setting.contains("[always]");
    }
}
