package io.strata.security;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps a client certificate's name (its subject, RFC 2253, or a subject alternative name) to a user name by
 * rules written as Kafka's {@code ssl.principal.mapping.rules}: {@code RULE:pattern/replacement/[L|U]} tried in
 * order, the first whose pattern matches the whole name wins; {@code DEFAULT} takes the name as it is. A name no
 * rule matches has no principal (the certificate is not accepted as an identity). Example:
 * {@code RULE:^CN=([a-z0-9.-]+),OU=apps,O=example$/$1/L, DEFAULT}.
 */
public final class PrincipalRules {
    private record Rule(Pattern pattern, String replacement, char caseChange) {
    }

    private final List<Rule> rules; // a null pattern is DEFAULT

    private PrincipalRules(List<Rule> rules) {
        this.rules = rules;
    }

    public static PrincipalRules parse(String text) {
        List<Rule> rules = new ArrayList<>();
        String rest = text == null ? "" : text.trim();
        if (rest.isEmpty()) {
            rest = "DEFAULT";
        }
        while (!rest.isEmpty()) {
            if (rest.startsWith("DEFAULT")) {
                rules.add(new Rule(null, null, ' '));
                rest = rest.substring("DEFAULT".length());
            } else if (rest.startsWith("RULE:")) {
                rest = rest.substring("RULE:".length());
                int end = unescapedSlash(rest, 0);
                int end2 = end < 0 ? -1 : unescapedSlash(rest, end + 1);
                if (end2 < 0) {
                    throw new IllegalArgumentException("a principal rule is RULE:pattern/replacement/[L|U]: " + text);
                }
                String pattern = rest.substring(0, end);
                String replacement = rest.substring(end + 1, end2).replace("\\/", "/");
                rest = rest.substring(end2 + 1);
                char caseChange = ' ';
                if (rest.startsWith("L") || rest.startsWith("U")) {
                    caseChange = rest.charAt(0);
                    rest = rest.substring(1);
                }
                rules.add(new Rule(Pattern.compile(pattern.replace("\\/", "/")), replacement, caseChange));
            } else {
                throw new IllegalArgumentException("a principal rule starts with RULE: or is DEFAULT: " + text);
            }
            rest = rest.trim();
            if (rest.startsWith(",")) {
                rest = rest.substring(1).trim();
            } else if (!rest.isEmpty()) {
                throw new IllegalArgumentException("principal rules are separated by commas: " + text);
            }
        }
        return new PrincipalRules(List.copyOf(rules));
    }

    private static int unescapedSlash(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            if (s.charAt(i) == '\\') {
                i++;
            } else if (s.charAt(i) == '/') {
                return i;
            }
        }
        return -1;
    }

    /** The user name the first matching rule gives, or empty when none matches. */
    public Optional<String> apply(String name) {
        for (Rule r : rules) {
            if (r.pattern == null) {
                return Optional.of(name);
            }
            Matcher m = r.pattern.matcher(name);
            if (m.matches()) {
                String mapped = m.replaceAll(r.replacement);
                mapped = switch (r.caseChange) {
                    case 'L' -> mapped.toLowerCase(Locale.ROOT);
                    case 'U' -> mapped.toUpperCase(Locale.ROOT);
                    default -> mapped;
                };
                return mapped.isEmpty() ? Optional.empty() : Optional.of(mapped);
            }
        }
        return Optional.empty();
    }
}
