package io.strata.console.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class AssetsTest {
    @Test
    void everyFileThePageLoadsIsInTheJarAndNothingComesFromAnotherSite() {
        Assets assets = Assets.load();
        String page = new String(assets.get("index.html").bytes(), StandardCharsets.UTF_8);
        Matcher refs = Pattern.compile("(?:src|href)=\"([^\"#]+)\"").matcher(page);
        int found = 0;
        while (refs.find()) {
            String ref = refs.group(1);
            if (ref.startsWith("data:")) {
                continue;
            }
            assertThat(ref).as("a file the page loads").doesNotContain("//");
            assertThat(assets.all()).as("the jar holds " + ref).containsKey(ref);
            found++;
        }
        assertThat(found).isGreaterThanOrEqualTo(2);
        for (Assets.Asset a : assets.all().values()) {
            // The SVG namespace is a name, not an address: nothing else may name another site.
            assertThat(new String(a.bytes(), StandardCharsets.UTF_8).replace("'http://www.w3.org/2000/svg'", ""))
                    .as(a.path()).doesNotContain("http://", "https://");
        }
    }

    @Test
    void aPathThatIsNotAFileIsThePageAndFilesHaveTheirTypes() {
        Assets assets = Assets.load();
        assertThat(assets.get("").path()).isEqualTo("index.html");
        assertThat(assets.get("groups/billing").path()).isEqualTo("index.html");
        assertThat(assets.get("app.js").contentType()).startsWith("text/javascript");
        assertThat(assets.get("style.css").contentType()).startsWith("text/css");
        assertThat(assets.get("app.js").etag()).isNotEqualTo(assets.get("style.css").etag()).startsWith("\"");
    }
}
