// Command kafkago exercises a DMQ node with segmentio/kafka-go 0.2.1 (Debian's
// golang-github-segmentio-kafka-go-dev) and prints one JSON line per
// capability, as the sarama command does. kafka-go 0.2.1 pins its protocol
// versions (Produce v2 with magic-1 message sets, Fetch v2, ListOffsets v1,
// CreateTopics v0, OffsetCommit v2): it has no version setting, so it runs
// in its default configuration only.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	kafka "github.com/segmentio/kafka-go"
)

const records = 50

var (
	brokers = flag.String("brokers", "127.0.0.1:9092", "bootstrap address")
	prefix  = flag.String("prefix", "kafkago", "prefix of the topic and group names")
)

func report(capability string, err error) {
	out := map[string]interface{}{"client": "kafka-go", "config": "default",
		"capability": capability, "result": "yes", "detail": ""}
	if err != nil {
		out["result"], out["detail"] = "no", err.Error()
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}

func main() {
	flag.Parse()
	topic := *prefix + "-topic"
	conn, err := kafka.Dial("tcp", *brokers)
	if err == nil {
		err = conn.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: 1, ReplicationFactor: 1})
	}
	report("admin_create_topic", err)
	report("metadata", checkMetadata(topic))
	report("produce_acks_all", produce(topic))
	report("consume_oldest", consumeOldest(topic))
	report("group_commit_resume", groupResume(topic))
	if conn != nil {
		report("admin_delete_topic", conn.DeleteTopics(topic))
		conn.Close()
	}
}

func checkMetadata(topic string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		parts, err := kafka.LookupPartitions(context.Background(), "tcp", *brokers, topic)
		if err == nil && len(parts) == 1 && parts[0].Leader.Port != 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("partitions of %s: %v %v", topic, parts, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func produce(topic string) error {
	w := kafka.NewWriter(kafka.WriterConfig{Brokers: []string{*brokers}, Topic: topic,
		RequiredAcks: -1, BatchSize: 10, BatchTimeout: 10 * time.Millisecond})
	defer w.Close()
	msgs := make([]kafka.Message, records)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return w.WriteMessages(ctx, msgs...)
}

func consumeOldest(topic string) error {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{*brokers}, Topic: topic,
		Partition: 0, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(kafka.FirstOffset); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < records; i++ {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("after %d records: %v", i, err)
		}
		if m.Offset != int64(i) || string(m.Key) != fmt.Sprintf("k%d", i) || string(m.Value) != fmt.Sprintf("v%d", i) {
			return fmt.Errorf("record %d: offset %d key %q value %q", i, m.Offset, m.Key, m.Value)
		}
	}
	return nil
}

// groupResume reads half the records in a group (synchronous commits), closes
// the reader, and checks that the next reader of the group starts there.
func groupResume(topic string) error {
	group := *prefix + "-group"
	for round := 0; round < 2; round++ {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{*brokers}, Topic: topic,
			GroupID: group, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 200 * time.Millisecond,
			HeartbeatInterval: time.Second, SessionTimeout: 10 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		first := int64(-1)
		var err error
		for i := 0; i < records/2 && err == nil; i++ {
			var m kafka.Message
			m, err = r.ReadMessage(ctx)
			if err == nil && first < 0 {
				first = m.Offset
			}
		}
		cancel()
		r.Close()
		if err != nil {
			return fmt.Errorf("round %d: %v", round, err)
		}
		if first != int64(round*records/2) {
			return fmt.Errorf("round %d started at %d, want %d", round, first, round*records/2)
		}
	}
	return nil
}
