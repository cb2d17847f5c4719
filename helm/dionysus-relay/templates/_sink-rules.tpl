{{/*
The alerts of component: sink, as rule list items; called by prometheusrule.yaml with
(dict "rule" .Values.metrics.prometheusRule "sel" <PromQL matchers>).
*/}}
{{- define "dionysus-relay.sinkRules" -}}
{{- $r := .rule }}
{{- $sel := .sel -}}
# Each partition is reported by the sink that owns it: sum over partitions, max over sinks.
- alert: DionysusSinkConsumerLag
  expr: sum by (namespace, topic) (max by (namespace, topic, partition) (dionysus_relay_sink_consumer_lag{ {{- $sel -}} })) > {{ $r.sinkLag.messages }}
  for: {{ $r.sinkLag.for }}
  labels:
    severity: warning
    {{- with $r.alertLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    summary: The sink is behind on topic {{`{{ $labels.topic }}`}}
    description: >-
      {{`{{ $value | printf "%.0f" }}`}} messages of topic {{`{{ $labels.topic }}`}} are not applied
      yet (threshold {{ $r.sinkLag.messages }}). The synced tables lag behind the producer: check
      dionysus_relay_sink_batches_retried_total and the sink logs.
- alert: DionysusSinkDeadLetters
  expr: sum by (namespace, topic, error_class) (increase(dionysus_relay_sink_messages_dead_lettered_total{ {{- $sel -}} }[{{ $r.sinkDeadLetters.window }}])) > 0
  labels:
    severity: warning
    {{- with $r.alertLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    summary: Messages of topic {{`{{ $labels.topic }}`}} went to the dead-letter topic
    description: >-
      About {{`{{ $value | printf "%.0f" }}`}} messages of topic {{`{{ $labels.topic }}`}} could not be
      applied ({{`{{ $labels.error_class }}`}}) in the last {{ $r.sinkDeadLetters.window }}; their
      records are not in the synced tables. The dead letters carry the error in their headers.
- alert: DionysusSinkPartitionStopped
  expr: max by (namespace, topic, partition) (dionysus_relay_sink_partition_stopped{ {{- $sel -}} }) == 1
  labels:
    severity: critical
    {{- with $r.alertLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    summary: Partition {{`{{ $labels.partition }}`}} of topic {{`{{ $labels.topic }}`}} is stopped
    description: >-
      A poison message stopped the partition (on_poison: stop): nothing after it is applied. The
      sink logs name its offset and the error; restart the sink once the cause is fixed.
- alert: DionysusSinkDown
  expr: absent(up{ {{- $sel -}} } == 1)
  for: {{ $r.relayDown.for }}
  labels:
    severity: critical
    {{- with $r.alertLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    summary: No dionysus-relay sink instance is up
    description: >-
      No sink matching {{ $sel }} has been up for {{ $r.relayDown.for }}: the synced tables are
      not updated.
{{- end }}
