// The Kafka error type behind a kafkajs exception: kafkajs wraps the
// broker's code in retrier causes, original errors and aggregate errors.
function errorType(e) {
  let cause = e;
  for (;;) {
    if (cause.errors && cause.errors[0]) cause = cause.errors[0];
    else if (cause.cause || cause.originalError) cause = cause.cause || cause.originalError;
    else if (cause.partitions && cause.partitions[0] && cause.partitions[0].error) cause = cause.partitions[0].error;
    else break;
  }
  return cause.type || cause.name || String(cause.message);
}

module.exports = { errorType };
