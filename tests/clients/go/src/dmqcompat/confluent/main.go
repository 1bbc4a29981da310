// Command confluent exercises a DMQ node with confluentinc/confluent-kafka-go
// 0.11.6 (Debian's golang-github-confluentinc-confluent-kafka-go-dev, cgo over
// Debian's librdkafka) and prints one JSON line per capability, as the sarama
// command does. librdkafka negotiates its protocol versions with ApiVersions,
// so the client runs in its default configuration; the producer is idempotent
// (enable.idempotence, acks=all).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/confluentinc/confluent-kafka-go/kafka"
)

const records = 50

var (
	brokers = flag.String("brokers", "127.0.0.1:9092", "bootstrap address")
	prefix  = flag.String("prefix", "confluent", "prefix of the topic and group names")
)

func report(capability string, err error) {
	out := map[string]interface{}{"client": "confluent-kafka-go", "config": "default",
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
	admin, err := kafka.NewAdminClient(&kafka.ConfigMap{"bootstrap.servers": *brokers})
	if err != nil {
		report("admin_create_topic", err)
		return
	}
	defer admin.Close()
	report("admin_create_topic", createTopic(admin, topic))
	report("metadata", checkMetadata(admin, topic))
	report("produce_acks_all", produce(topic))
	report("consume_oldest", consumeOldest(topic))
	report("group_commit_resume", groupResume(topic))
	report("admin_list_topics", listTopics(admin, topic))
	report("admin_describe_config", describeConfig(admin, topic, "retention.ms", ""))
	report("admin_alter_config", alterConfig(admin, topic))
	report("admin_delete_topic", deleteTopic(admin, topic))
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}

func topicResult(res []kafka.TopicResult, err error) error {
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return fmt.Errorf("%d results", len(res))
	}
	if res[0].Error.Code() != kafka.ErrNoError {
		return res[0].Error
	}
	return nil
}

func createTopic(admin *kafka.AdminClient, topic string) error {
	c, cancel := ctx()
	defer cancel()
	res, err := admin.CreateTopics(c, []kafka.TopicSpecification{{Topic: topic, NumPartitions: 1,
		ReplicationFactor: 1}})
	err = topicResult(res, err)
	if e, ok := err.(kafka.Error); ok && e.Code() == kafka.ErrTopicAlreadyExists {
		return nil // the test made it over REST first
	}
	return err
}

func deleteTopic(admin *kafka.AdminClient, topic string) error {
	c, cancel := ctx()
	defer cancel()
	return topicResult(admin.DeleteTopics(c, []string{topic}))
}

func checkMetadata(admin *kafka.AdminClient, topic string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		md, err := admin.GetMetadata(&topic, false, 5000)
		if err == nil {
			t := md.Topics[topic]
			if t.Error.Code() == kafka.ErrNoError && len(t.Partitions) == 1 && t.Partitions[0].Leader >= 0 {
				return nil
			}
			err = fmt.Errorf("topic %s: %v", topic, t.Error)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func listTopics(admin *kafka.AdminClient, topic string) error {
	md, err := admin.GetMetadata(nil, true, 5000)
	if err != nil {
		return err
	}
	if _, ok := md.Topics[topic]; !ok {
		return fmt.Errorf("%s not among %d topics", topic, len(md.Topics))
	}
	return nil
}

func describeConfig(admin *kafka.AdminClient, topic, name, want string) error {
	c, cancel := ctx()
	defer cancel()
	res, err := admin.DescribeConfigs(c, []kafka.ConfigResource{{Type: kafka.ResourceTopic, Name: topic}})
	if err != nil {
		return err
	}
	if len(res) != 1 || res[0].Error.Code() != kafka.ErrNoError {
		return fmt.Errorf("results %v", res)
	}
	entry, ok := res[0].Config[name]
	if !ok || (want != "" && entry.Value != want) {
		return fmt.Errorf("%s = %q, want %q", name, entry.Value, want)
	}
	return nil
}

func alterConfig(admin *kafka.AdminClient, topic string) error {
	c, cancel := ctx()
	defer cancel()
	res, err := admin.AlterConfigs(c, []kafka.ConfigResource{{Type: kafka.ResourceTopic, Name: topic,
		Config: []kafka.ConfigEntry{{Name: "retention.ms", Value: "3600000",
			Operation: kafka.AlterOperationSet}}}})
	if err != nil {
		return err
	}
	if len(res) != 1 || res[0].Error.Code() != kafka.ErrNoError {
		return fmt.Errorf("results %v", res)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = describeConfig(admin, topic, "retention.ms", "3600000")
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func produce(topic string) error {
	p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": *brokers, "acks": "all",
		"enable.idempotence": true, "linger.ms": 5})
	if err != nil {
		return err
	}
	defer p.Close()
	reports := make(chan kafka.Event, records)
	for i := 0; i < records; i++ {
		err = p.Produce(&kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: 0},
			Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i))}, reports)
		if err != nil {
			return err
		}
	}
	for i := 0; i < records; i++ {
		select {
		case ev := <-reports:
			m := ev.(*kafka.Message)
			if m.TopicPartition.Error != nil {
				return m.TopicPartition.Error
			}
			if int64(m.TopicPartition.Offset) != int64(i) {
				return fmt.Errorf("record %d acknowledged at offset %v", i, m.TopicPartition.Offset)
			}
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%d of %d records acknowledged", i, records)
		}
	}
	return nil
}

func consumeOldest(topic string) error {
	c, err := kafka.NewConsumer(&kafka.ConfigMap{"bootstrap.servers": *brokers,
		"group.id": *prefix + "-reader", "enable.auto.commit": false})
	if err != nil {
		return err
	}
	defer c.Close()
	err = c.Assign([]kafka.TopicPartition{{Topic: &topic, Partition: 0, Offset: kafka.OffsetBeginning}})
	if err != nil {
		return err
	}
	for i := 0; i < records; i++ {
		m, err := c.ReadMessage(20 * time.Second)
		if err != nil {
			return fmt.Errorf("after %d records: %v", i, err)
		}
		if int64(m.TopicPartition.Offset) != int64(i) || string(m.Key) != fmt.Sprintf("k%d", i) ||
			string(m.Value) != fmt.Sprintf("v%d", i) {
			return fmt.Errorf("record %d: offset %v key %q value %q", i, m.TopicPartition.Offset, m.Key, m.Value)
		}
	}
	return nil
}

// groupResume reads half the records in a subscribed group, commits
// synchronously, closes the consumer, and checks that the next member of the
// group starts at the commit.
func groupResume(topic string) error {
	group := *prefix + "-group"
	next := int64(0)
	for round := 0; round < 2; round++ {
		c, err := kafka.NewConsumer(&kafka.ConfigMap{"bootstrap.servers": *brokers, "group.id": group,
			"enable.auto.commit": false, "auto.offset.reset": "earliest", "session.timeout.ms": 10000})
		if err != nil {
			return err
		}
		if err = c.Subscribe(topic, nil); err != nil {
			c.Close()
			return err
		}
		for i := 0; i < records/2 && err == nil; i++ {
			var m *kafka.Message
			m, err = c.ReadMessage(30 * time.Second)
			if err == nil && int64(m.TopicPartition.Offset) != next {
				err = fmt.Errorf("round %d read offset %v, want %d", round, m.TopicPartition.Offset, next)
			}
			if err == nil {
				_, err = c.CommitMessage(m)
				next++
			}
		}
		c.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
