package io.strata.cli;

import io.strata.client.RecordHeader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * How {@code strata consume} prints a record. As text: the fields asked for ({@code --print-partition},
 * {@code --print-offset}, {@code --print-timestamp}, {@code --print-key}, {@code --print-headers}), each followed by a
 * tab, then the value, as UTF-8 text. As JSON ({@code --format json}): one object per line with every field, for
 * scripts: {@code topic}, {@code partition}, {@code offset}, {@code timestamp} (epoch ms), {@code key} (null when the
 * record has none), {@code value}, {@code headers} (a list of {@code {"key", "value"}}, in order, repeats kept); a
 * key, value or header value that is not UTF-8 is given in base64 instead, as {@code key_base64},
 * {@code value_base64} or a header's {@code value_base64}. Pure.
 */
record RecordFormat(boolean partition, boolean offset, boolean timestamp, boolean key, boolean headers, boolean json) {
    static final RecordFormat VALUE_ONLY = new RecordFormat(false, false, false, false, false, false);

    /** One record as one line (without its line end). {@code deliveryCount} is printed in JSON only, when positive. */
    String line(String topic, int partitionNumber, long offsetNumber, long timestampMs, byte[] keyBytes,
                byte[] value, List<RecordHeader> recordHeaders, int deliveryCount) {
        if (json) {
            StringBuilder b = new StringBuilder(64 + value.length);
            b.append("{\"topic\":");
            Json.string(b, topic);
            b.append(",\"partition\":").append(partitionNumber).append(",\"offset\":").append(offsetNumber)
                    .append(",\"timestamp\":").append(timestampMs);
            if (deliveryCount > 0) {
                b.append(",\"delivery_count\":").append(deliveryCount);
            }
            bytes(b.append(','), "key", keyBytes);
            bytes(b.append(','), "value", value);
            b.append(",\"headers\":[");
            for (int i = 0; i < recordHeaders.size(); i++) {
                RecordHeader h = recordHeaders.get(i);
                b.append(i == 0 ? "{\"key\":" : ",{\"key\":");
                Json.string(b, h.key());
                bytes(b.append(','), "value", h.value());
                b.append('}');
            }
            return b.append("]}").toString();
        }
        StringBuilder b = new StringBuilder();
        if (partition) {
            b.append(partitionNumber).append('\t');
        }
        if (offset) {
            b.append(offsetNumber).append('\t');
        }
        if (timestamp) {
            b.append(timestampMs).append('\t');
        }
        if (key) {
            b.append(keyBytes == null ? "" : new String(keyBytes, StandardCharsets.UTF_8)).append('\t');
        }
        if (headers) {
            for (int i = 0; i < recordHeaders.size(); i++) {
                RecordHeader h = recordHeaders.get(i);
                b.append(i == 0 ? "" : ",").append(h.key()).append('=')
                        .append(new String(h.value(), StandardCharsets.UTF_8));
            }
            b.append('\t');
        }
        return b.append(new String(value, StandardCharsets.UTF_8)).toString();
    }

    String line(io.strata.client.ConsumerRecord r) {
        return line(r.topic(), r.partition(), r.offset(), r.timestampMs(), r.key(), r.value(), r.headers(), 0);
    }

    String line(io.strata.client.ShareRecord r) {
        return line(r.topic(), r.partition(), r.offset(), r.timestampMs(), r.key(), r.value(), r.headers(),
                r.deliveryCount());
    }

    /** {@code "name":"text"}, {@code "name":null}, or {@code "name_base64":"..."} for bytes that are not UTF-8. */
    private static void bytes(StringBuilder b, String name, byte[] bytes) {
        if (bytes == null) {
            b.append('"').append(name).append("\":null");
            return;
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            b.append('"').append(name).append("\":");
            Json.string(b, text);
        } catch (CharacterCodingException notText) {
            b.append('"').append(name).append("_base64\":\"").append(Base64.getEncoder().encodeToString(bytes))
                    .append('"');
        }
    }
}
