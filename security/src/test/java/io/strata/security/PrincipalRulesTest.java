package io.strata.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PrincipalRulesTest {
    @Test
    void theFirstRuleThatMatchesNamesTheUser() {
        PrincipalRules rules = PrincipalRules.parse("RULE:^CN=([a-zA-Z0-9.-]+),OU=apps,O=Example$/$1/L, "
                + "RULE:^CN=(.*?),OU=(.*?),O=.*$/$1@$2/, DEFAULT");
        assertThat(rules.apply("CN=Indexer,OU=apps,O=Example")).contains("indexer");
        assertThat(rules.apply("CN=bob,OU=ops,O=Other")).contains("bob@ops");
        assertThat(rules.apply("CN=x")).contains("CN=x");
    }

    @Test
    void withoutDefaultANameNoRuleMatchesHasNoPrincipal() {
        PrincipalRules rules = PrincipalRules.parse("RULE:^CN=(.*),O=Example$/$1/U");
        assertThat(rules.apply("CN=svc,O=Example")).contains("SVC");
        assertThat(rules.apply("CN=svc,O=Evil")).isEmpty();
        assertThat(PrincipalRules.parse("").apply("CN=a")).contains("CN=a");
    }

    @Test
    void malformedRulesAreRefusedWhenRead() {
        assertThatThrownBy(() -> PrincipalRules.parse("RULE:^CN=(.*)$")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PrincipalRules.parse("CN=(.*)")).isInstanceOf(IllegalArgumentException.class);
    }
}
