package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import io.strata.metadata.codec.MetadataCodec;
import io.strata.metadata.codec.PartitionHeadValue;
import io.strata.metadata.codec.ShardHeadValue;
import org.junit.jupiter.api.Test;

/**
 * Heads hold only the shard's sequence now; versions before kept each partition's next offset there. A node of
 * such a version must not read a new head as "no partitions, every next offset 0": it would assign offsets a
 * second time. The new format is therefore not valid protobuf to it.
 */
class HeadFormatTest {
    @Test
    void aHeadAsWrittenNowIsRefusedByTheParserOfEarlierVersions() {
        byte[] head = MetadataCodec.encodeHead(42);
        assertThatThrownBy(() -> ShardHeadValue.parseFrom(head)).isInstanceOf(InvalidProtocolBufferException.class);
        assertThat(MetadataCodec.decodeHead("heads/00001", head).getNextSequence()).isEqualTo(42);
    }

    @Test
    void aHeadAnEarlierVersionWroteIsReadForItsSequence() {
        byte[] legacy = ShardHeadValue.newBuilder().setNextSequence(7).addPartitions(PartitionHeadValue.newBuilder()
                .setTopicId(1).setPartition(0).setNextOffset(1_000)).build().toByteArray();
        assertThat(MetadataCodec.decodeHead("heads/00001", legacy).getNextSequence()).isEqualTo(7);
    }

    @Test
    void aHeadOfALaterFormatIsRefusedWithAClearMessage() {
        byte[] later = {(byte) 0xFF, 0x02, 0x08, 0x01};
        assertThatThrownBy(() -> MetadataCodec.decodeHead("heads/00001", later))
                .isInstanceOf(MetadataException.class).hasMessageContaining("later version");
    }
}
