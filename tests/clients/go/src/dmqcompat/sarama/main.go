// Command sarama exercises a DMQ node with Shopify/sarama 1.22.1 (Debian's
// golang-github-shopify-sarama-dev) and prints one JSON line per capability:
// {"client":"sarama","config":...,"capability":...,"ok":...,"detail":...}.
// -version "" keeps sarama's default (Kafka 0.8.2: Produce v0, Fetch v0,
// OffsetCommit v1, DescribeConfigs v0); "2.2.0" selects sarama's newest.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

const records = 50

var (
	brokers = flag.String("brokers", "127.0.0.1:9092", "bootstrap address")
	version = flag.String("version", "", "Kafka version to speak (empty: sarama's default)")
	prefix  = flag.String("prefix", "sarama", "prefix of the topic and group names")
)

func report(capability string, err error) {
	result := "yes"
	detail := ""
	if err != nil {
		result, detail = "no", err.Error()
	}
	emit(capability, result, detail)
}

// notApplicable reports a call sarama itself refuses below `min` (its
// requiredVersion check, before anything is sent).
func notApplicable(capability string, min sarama.KafkaVersion) {
	emit(capability, "n/a", "sarama needs Version >= "+min.String())
}

func emit(capability, result, detail string) {
	cfg := *version
	if cfg == "" {
		cfg = "default"
	}
	out := map[string]interface{}{"client": "sarama", "config": cfg, "capability": capability,
		"result": result, "detail": detail}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}

// adminCalls runs the admin calls the configured version lets sarama send.
func adminCalls(topic string) {
	v := config().Version
	if !v.IsAtLeast(sarama.V0_10_1_0) {
		for _, c := range []string{"admin_create_topic", "admin_list_topics",
			"admin_describe_config", "admin_alter_config", "admin_delete_topic"} {
			notApplicable(c, sarama.V0_10_1_0)
		}
		return
	}
	admin, err := sarama.NewClusterAdmin([]string{*brokers}, config())
	if err != nil {
		report("admin_create_topic", err)
		return
	}
	defer admin.Close()
	t := topic + "-admin"
	report("admin_create_topic",
		admin.CreateTopic(t, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false))
	if !v.IsAtLeast(sarama.V0_11_0_0) {
		for _, c := range []string{"admin_list_topics", "admin_describe_config", "admin_alter_config"} {
			notApplicable(c, sarama.V0_11_0_0)
		}
	} else {
		report("admin_list_topics", listTopics(admin, t))
		_, err = admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: t})
		report("admin_describe_config", err)
		value := "86400000"
		err = admin.AlterConfig(sarama.TopicResource, t, map[string]*string{"retention.ms": &value}, false)
		report("admin_alter_config", err)
	}
	report("admin_delete_topic", admin.DeleteTopic(t))
}

func config() *sarama.Config {
	c := sarama.NewConfig()
	if *version != "" {
		v, err := sarama.ParseKafkaVersion(*version)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		c.Version = v
	}
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Return.Errors = true
	c.Metadata.Retry.Backoff = 200 * time.Millisecond
	return c
}

func main() {
	flag.Parse()
	// The data topic is created by the first produce (auto.create.topics.enable),
	// which every version can do; the admin calls use a topic of their own.
	topic := *prefix + "-topic"
	report("produce_acks_all", produce(topic))
	report("metadata", checkMetadata(topic))
	report("consume_oldest", consumeOldest(topic))
	report("group_commit_resume", groupResume(topic))
	adminCalls(topic)
}

func checkMetadata(topic string) error {
	client, err := sarama.NewClient([]string{*brokers}, config())
	if err != nil {
		return err
	}
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		client.RefreshMetadata(topic)
		parts, err := client.Partitions(topic)
		if err == nil && len(parts) == 1 {
			if _, err := client.Leader(topic, 0); err != nil {
				return err
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("partitions of %s: %v %v", topic, parts, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func produce(topic string) error {
	p, err := sarama.NewSyncProducer([]string{*brokers}, config())
	if err != nil {
		return err
	}
	defer p.Close()
	for i := 0; i < records; i++ {
		_, off, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic,
			Key: sarama.StringEncoder(fmt.Sprintf("k%d", i)), Value: sarama.StringEncoder(fmt.Sprintf("v%d", i))})
		if err != nil {
			return err
		}
		if off != int64(i) {
			return fmt.Errorf("record %d got offset %d", i, off)
		}
	}
	return nil
}

func consumeOldest(topic string) error {
	c, err := sarama.NewConsumer([]string{*brokers}, config())
	if err != nil {
		return err
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		return err
	}
	defer pc.Close()
	for i := 0; i < records; i++ {
		select {
		case m := <-pc.Messages():
			if m.Offset != int64(i) || string(m.Value) != fmt.Sprintf("v%d", i) || string(m.Key) != fmt.Sprintf("k%d", i) {
				return fmt.Errorf("record %d: offset %d key %q value %q", i, m.Offset, m.Key, m.Value)
			}
		case e := <-pc.Errors():
			return e
		case <-time.After(10 * time.Second):
			return fmt.Errorf("timed out after %d records", i)
		}
	}
	return nil
}

func listTopics(admin sarama.ClusterAdmin, topic string) error {
	topics, err := admin.ListTopics()
	if err != nil {
		return err
	}
	if _, ok := topics[topic]; !ok {
		return fmt.Errorf("%s not listed", topic)
	}
	return nil
}

// groupResume reads half the records in a group, commits, and checks that the
// next member of the group starts where the commit left off. Before Kafka
// 0.10.2 sarama has no group membership: its offset manager commits (v1) as
// a simple consumer.
func groupResume(topic string) error {
	group := *prefix + "-group"
	for round := 0; round < 2; round++ {
		var first int64
		var err error
		if config().Version.IsAtLeast(sarama.V0_10_2_0) {
			first, err = groupRound(topic, group)
		} else {
			first, err = offsetManagerRound(topic, group)
		}
		if err != nil {
			return err
		}
		if first != int64(round*records/2) {
			return fmt.Errorf("round %d started at %d, want %d", round, first, round*records/2)
		}
	}
	return nil
}

func offsetManagerRound(topic, group string) (int64, error) {
	client, err := sarama.NewClient([]string{*brokers}, config())
	if err != nil {
		return -1, err
	}
	defer client.Close()
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		return -1, err
	}
	pom, err := om.ManagePartition(topic, 0)
	if err != nil {
		return -1, err
	}
	next, _ := pom.NextOffset()
	if next < 0 {
		next = sarama.OffsetOldest
	}
	c, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return -1, err
	}
	pc, err := c.ConsumePartition(topic, 0, next)
	if err != nil {
		return -1, err
	}
	first := int64(-1)
	for i := 0; i < records/2; i++ {
		select {
		case m := <-pc.Messages():
			if first < 0 {
				first = m.Offset
			}
			pom.MarkOffset(m.Offset+1, "")
		case <-time.After(10 * time.Second):
			return -1, fmt.Errorf("timed out")
		}
	}
	pc.Close()
	pom.Close()
	if err := om.Close(); err != nil {
		return -1, err
	}
	return first, nil
}

type handler struct {
	mu    sync.Mutex
	first int64
	seen  int
	done  chan struct{}
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	// Exactly half the records are marked: a later session of this round
	// (Consume is called again until the round ends) marks nothing more.
	for m := range claim.Messages() {
		h.mu.Lock()
		full := h.seen >= records/2
		if !full {
			if h.first < 0 {
				h.first = m.Offset
			}
			h.seen++
			s.MarkMessage(m, "")
			if h.seen == records/2 {
				close(h.done)
			}
		}
		h.mu.Unlock()
		if full {
			return nil
		}
	}
	return nil
}

func groupRound(topic, group string) (int64, error) {
	cfg := config()
	cfg.Consumer.Offsets.CommitInterval = 100 * time.Millisecond
	g, err := sarama.NewConsumerGroup([]string{*brokers}, group, cfg)
	if err != nil {
		return -1, err
	}
	h := &handler{first: -1, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, h); err != nil {
				errs <- err
				return
			}
		}
	}()
	select {
	case <-h.done:
	case err := <-errs:
		cancel()
		return -1, err
	case <-time.After(30 * time.Second):
		cancel()
		h.mu.Lock()
		defer h.mu.Unlock()
		return -1, fmt.Errorf("group timed out after %d records", h.seen)
	}
	time.Sleep(500 * time.Millisecond) // one commit interval passes
	cancel()
	if err := g.Close(); err != nil {
		return -1, err
	}
	return h.first, nil
}
