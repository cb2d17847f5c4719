{{/*
Helpers of the dionysus-relay chart. Every template here needs only .Values, .Release,
.Chart and .Files, never .Template: the sidecar templates are called from an application
chart with this chart's context taken from .Subcharts, which has no .Template.
*/}}

{{- define "dionysus-relay.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dionysus-relay.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dionysus-relay.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dionysus-relay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dionysus-relay.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dionysus-relay.labels" -}}
helm.sh/chart: {{ include "dionysus-relay.chart" . }}
{{ include "dionysus-relay.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dionysus
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "dionysus-relay.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dionysus-relay.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dionysus-relay.configMapName" -}}
{{- printf "%s-config" (include "dionysus-relay.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dionysus-relay.image" -}}
{{- $repo := required "image.repository is required" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/* The topics file exactly as mounted: topicsYaml verbatim, else topics as YAML. */}}
{{- define "dionysus-relay.topicsYaml" -}}
{{- if .Values.topicsYaml }}
{{- .Values.topicsYaml }}
{{- else if .Values.topics }}
{{- toYaml .Values.topics }}
{{- else }}
{{- "{}" }}
{{- end }}
{{- end }}

{{/* The sink file exactly as mounted: sink.configYaml verbatim, else sink.config as YAML. */}}
{{- define "dionysus-relay.sinkYaml" -}}
{{- if .Values.sink.configYaml }}
{{- .Values.sink.configYaml }}
{{- else if .Values.sink.config }}
{{- toYaml .Values.sink.config }}
{{- else }}
{{- "{}" }}
{{- end }}
{{- end }}

{{/* True (non-empty) when the chart runs the sink. */}}
{{- define "dionysus-relay.isSink" -}}
{{- if eq .Values.component "sink" }}true{{ end }}
{{- end }}

{{/*
Name of what runs: the default container name and the prefix of its pod volumes, so that a relay
and a sink can be sidecars of one pod.
*/}}
{{- define "dionysus-relay.componentName" -}}
{{- if include "dionysus-relay.isSink" . }}dionysus-sink{{ else }}dionysus-relay{{ end }}
{{- end }}

{{/* Name of the container's metrics port (unique in a pod that runs both a relay and a sink). */}}
{{- define "dionysus-relay.portName" -}}
{{- if include "dionysus-relay.isSink" . }}sink-metrics{{ else }}http-metrics{{ end }}
{{- end }}

{{/* The mounted file: the topics file (relay) or the sink file (sink). */}}
{{- define "dionysus-relay.configFile" -}}
{{- if include "dionysus-relay.isSink" . }}
{{- include "dionysus-relay.sinkYaml" . }}
{{- else }}
{{- include "dionysus-relay.topicsYaml" . }}
{{- end }}
{{- end }}

{{/* Hash of what the pods read from the ConfigMap; a change rolls the pods. */}}
{{- define "dionysus-relay.configChecksum" -}}
{{- include "dionysus-relay.configFile" . | sha256sum }}
{{- end }}

{{/* Comma-separated broker list from a list or a string. */}}
{{- define "dionysus-relay.brokers" -}}
{{- $b := .Values.kafka.brokers }}
{{- if kindIs "slice" $b }}
{{- join "," $b }}
{{- else }}
{{- $b | toString | trim }}
{{- end }}
{{- end }}

{{/*
Checks the values that would otherwise give a pod that cannot work; fails rendering with a
message saying which value to change. Renders nothing.
*/}}
{{- define "dionysus-relay.validate" -}}
{{- if not (has .Values.mode (list "standalone" "sidecar")) }}
{{- fail (printf "mode must be \"standalone\" or \"sidecar\", not %q" (toString .Values.mode)) }}
{{- end }}
{{- if not (has .Values.component (list "relay" "sink")) }}
{{- fail (printf "component must be \"relay\" or \"sink\", not %q" (toString .Values.component)) }}
{{- end }}
{{- if and (include "dionysus-relay.isSink" .) (not (or .Values.sink.config .Values.sink.configYaml)) }}
{{- fail "sink.config (or sink.configYaml) is required with component: sink: the sink file (group, topics, models)" }}
{{- end }}
{{- if and .Values.sink.config .Values.sink.configYaml }}
{{- fail "set either sink.config (a YAML object) or sink.configYaml (a string), not both" }}
{{- end }}
{{- $grace := int .Values.relay.shutdownGraceSeconds }}
{{- $termination := int .Values.terminationGracePeriodSeconds }}
{{- if le $grace 0 }}
{{- fail "relay.shutdownGraceSeconds must be a positive number of seconds" }}
{{- end }}
{{- if le $termination (add $grace 5) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be greater than relay.shutdownGraceSeconds (%d) + 5: otherwise Kubernetes kills the relay before its drain on SIGTERM ends. Raise terminationGracePeriodSeconds to at least %d or lower relay.shutdownGraceSeconds." $termination $grace (add $grace 6)) }}
{{- end }}
{{- if not .Values.database.existingSecret }}
{{- fail "database.existingSecret is required: the name of an existing Secret holding the Postgres URL (key database.secretKey)" }}
{{- end }}
{{- if not (include "dionysus-relay.brokers" .) }}
{{- fail "kafka.brokers is required: a list of host:port or a comma-separated string" }}
{{- end }}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.existingSecret) }}
{{- fail "kafka.sasl.existingSecret is required when kafka.sasl.mechanism is set: credentials come only from an existing Secret" }}
{{- end }}
{{- if and .Values.kafka.securityProtocol (not (has .Values.kafka.securityProtocol (list "plaintext" "ssl" "sasl_plaintext" "sasl_ssl"))) }}
{{- fail (printf "kafka.securityProtocol must be plaintext, ssl, sasl_plaintext or sasl_ssl, not %q" .Values.kafka.securityProtocol) }}
{{- end }}
{{- if and .Values.topics .Values.topicsYaml }}
{{- fail "set either topics (a YAML object) or topicsYaml (a string), not both" }}
{{- end }}
{{- if and (eq .Values.mode "sidecar") (not (include "dionysus-relay.isSink" .)) (not (kindIs "invalid" .Values.relay.activeSlots)) (eq (int .Values.relay.activeSlots) 0) }}
{{- fail "relay.activeSlots: 0 (no limit on active relays) is refused in sidecar mode: every application pod runs a relay, so their number, and the locks they hold in PostgreSQL's shared lock table, would follow the application's scale. Set relay.activeSlots to the most relays that may claim at once (default 4; docs/sizing.md)." }}
{{- end }}
{{- if and (not (kindIs "invalid" .Values.relay.lockTableShare)) (eq (include "dionysus-relay.activeSlots" .) "0") }}
{{- fail "relay.lockTableShare needs relay.activeSlots > 0: the lock table share is divided among the active relays (docs/sizing.md)" }}
{{- end }}
{{- range $k, $v := .Values.kafka.librdkafka }}
{{- if regexMatch "(?i)(password|secret|^sasl\\.username$|^ssl\\.key\\.pem$)" $k }}
{{- fail (printf "kafka.librdkafka.%s looks like a credential: pass it from a Secret (kafka.sasl.existingSecret, extraEnv with secretKeyRef), not in values" $k) }}
{{- end }}
{{- end }}
{{- end }}

{{/* RELAY_ACTIVE_SLOTS: the value, else replicaCount (standalone) or 4 (sidecar). */}}
{{- define "dionysus-relay.activeSlots" -}}
{{- if not (kindIs "invalid" .Values.relay.activeSlots) }}
{{- int .Values.relay.activeSlots }}
{{- else if eq .Values.mode "sidecar" }}
{{- 4 }}
{{- else }}
{{- int .Values.replicaCount }}
{{- end }}
{{- end }}

{{/* Environment of the relay container. */}}
{{- define "dionysus-relay.env" -}}
{{- if .Values.database.mountAsFile }}
- name: DATABASE_URL_FILE
  value: /var/run/secrets/dionysus-relay/database/{{ .Values.database.secretKey }}
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret | quote }}
      key: {{ .Values.database.secretKey | quote }}
{{- end }}
{{- with .Values.database.schema }}
- name: DATABASE_SCHEMA
  value: {{ . | quote }}
{{- end }}
{{- with .Values.database.table }}
- name: OUTBOX_TABLE
  value: {{ . | quote }}
{{- end }}
{{- if not (kindIs "invalid" .Values.database.poolSize) }}
- name: DATABASE_POOL_SIZE
  value: {{ .Values.database.poolSize | toString | quote }}
{{- end }}
{{- if .Values.database.sslCa.existingSecret }}
- name: DATABASE_SSL_CA_FILE
  value: /var/run/secrets/dionysus-relay/database-ca/{{ .Values.database.sslCa.key }}
{{- end }}
- name: KAFKA_BROKERS
  value: {{ include "dionysus-relay.brokers" . | quote }}
{{- with .Values.kafka.clientId }}
- name: KAFKA_CLIENT_ID
  value: {{ . | quote }}
{{- end }}
{{- with .Values.kafka.securityProtocol }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ . | quote }}
{{- end }}
{{- if .Values.kafka.sasl.mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret | quote }}
      key: {{ .Values.kafka.sasl.usernameKey | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret | quote }}
      key: {{ .Values.kafka.sasl.passwordKey | quote }}
{{- end }}
{{- if .Values.kafka.ssl.ca.existingSecret }}
- name: KAFKA_SSL_CA_FILE
  value: /var/run/secrets/dionysus-relay/kafka-ca/{{ .Values.kafka.ssl.ca.key }}
{{- end }}
{{- with .Values.kafka.librdkafka }}
- name: KAFKA_LIBRDKAFKA
  value: {{ toJson . | quote }}
{{- end }}
{{- if include "dionysus-relay.isSink" . }}
- name: SINK_FILE
  value: /etc/dionysus-relay/sink.yaml
{{- else }}
- name: TOPICS_FILE
  value: /etc/dionysus-relay/topics.yaml
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.relay.logLevel | quote }}
- name: LOG_FORMAT
  value: {{ .Values.relay.logFormat | quote }}
- name: HTTP_HOST
  value: "0.0.0.0"
- name: HTTP_PORT
  value: {{ .Values.httpPort | toString | quote }}
- name: {{ if include "dionysus-relay.isSink" . }}SINK_SHUTDOWN_GRACE_MS{{ else }}RELAY_SHUTDOWN_GRACE_MS{{ end }}
  value: {{ mul (int .Values.relay.shutdownGraceSeconds) 1000 | toString | quote }}
- name: HEALTH_LIVENESS_TIMEOUT_MS
  value: {{ mul (int .Values.relay.livenessTimeoutSeconds) 1000 | toString | quote }}
{{- if include "dionysus-relay.isSink" . }}
{{- if not (kindIs "invalid" .Values.sink.maxBatchMessages) }}
- name: SINK_MAX_BATCH_MESSAGES
  value: {{ .Values.sink.maxBatchMessages | toString | quote }}
{{- end }}
{{- if not (kindIs "invalid" .Values.sink.concurrency) }}
- name: SINK_CONCURRENCY
  value: {{ .Values.sink.concurrency | toString | quote }}
{{- end }}
{{- else }}
- name: HEALTH_COMPAT_FILE
  value: {{ .Values.relay.healthCompatFile | toString | quote }}
{{- if not (kindIs "invalid" .Values.relay.batchSize) }}
- name: RELAY_BATCH_SIZE
  value: {{ .Values.relay.batchSize | toString | quote }}
{{- end }}
{{- if not (kindIs "invalid" .Values.relay.pollIntervalMs) }}
- name: RELAY_POLL_INTERVAL_MS
  value: {{ .Values.relay.pollIntervalMs | toString | quote }}
{{- end }}
{{- $slots := include "dionysus-relay.activeSlots" . }}
- name: RELAY_ACTIVE_SLOTS
  value: {{ $slots | quote }}
{{- if ne $slots "0" }}
- name: RELAY_LOCK_TABLE_SHARE
  value: {{ (kindIs "invalid" .Values.relay.lockTableShare) | ternary 50 .Values.relay.lockTableShare | toString | quote }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volume mounts of the relay container. */}}
{{- define "dionysus-relay.volumeMounts" -}}
- name: {{ include "dionysus-relay.componentName" . }}-config
  mountPath: /etc/dionysus-relay
  readOnly: true
- name: {{ include "dionysus-relay.componentName" . }}-tmp
  mountPath: /tmp
{{- if .Values.database.mountAsFile }}
- name: {{ include "dionysus-relay.componentName" . }}-database
  mountPath: /var/run/secrets/dionysus-relay/database
  readOnly: true
{{- end }}
{{- if .Values.database.sslCa.existingSecret }}
- name: {{ include "dionysus-relay.componentName" . }}-database-ca
  mountPath: /var/run/secrets/dionysus-relay/database-ca
  readOnly: true
{{- end }}
{{- if .Values.kafka.ssl.ca.existingSecret }}
- name: {{ include "dionysus-relay.componentName" . }}-kafka-ca
  mountPath: /var/run/secrets/dionysus-relay/kafka-ca
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volumes the relay container needs, as a list of pod volumes. */}}
{{- define "dionysus-relay.volumes" -}}
- name: {{ include "dionysus-relay.componentName" . }}-config
  configMap:
    name: {{ include "dionysus-relay.configMapName" . }}
- name: {{ include "dionysus-relay.componentName" . }}-tmp
  emptyDir:
    {{- with .Values.tmpSizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- if .Values.database.mountAsFile }}
- name: {{ include "dionysus-relay.componentName" . }}-database
  secret:
    secretName: {{ .Values.database.existingSecret | quote }}
    items:
      - key: {{ .Values.database.secretKey | quote }}
        path: {{ .Values.database.secretKey | quote }}
{{- end }}
{{- if .Values.database.sslCa.existingSecret }}
- name: {{ include "dionysus-relay.componentName" . }}-database-ca
  secret:
    secretName: {{ .Values.database.sslCa.existingSecret | quote }}
    items:
      - key: {{ .Values.database.sslCa.key | quote }}
        path: {{ .Values.database.sslCa.key | quote }}
{{- end }}
{{- if .Values.kafka.ssl.ca.existingSecret }}
- name: {{ include "dionysus-relay.componentName" . }}-kafka-ca
  secret:
    secretName: {{ .Values.kafka.ssl.ca.existingSecret | quote }}
    items:
      - key: {{ .Values.kafka.ssl.ca.key | quote }}
        path: {{ .Values.kafka.ssl.ca.key | quote }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* One HTTP probe on the container's port; path, port and the probe's values from the dict. */}}
{{- define "dionysus-relay.probe" -}}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
{{- range $k, $v := .probe }}
{{- if ne $k "enabled" }}
{{ $k }}: {{ $v }}
{{- end }}
{{- end }}
{{- end }}

{{/* The relay container, as one item of a containers list. Used by both modes. */}}
{{- define "dionysus-relay.container" -}}
- name: {{ default (include "dionysus-relay.componentName" .) .Values.containerName }}
  image: {{ include "dionysus-relay.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  {{- if and (eq .Values.mode "sidecar") .Values.sidecar.native }}
  restartPolicy: Always
  {{- end }}
  args:
    - {{ if include "dionysus-relay.isSink" . }}sink{{ else }}run{{ end }}
  ports:
    - name: {{ include "dionysus-relay.portName" . }}
      containerPort: {{ .Values.httpPort }}
      protocol: TCP
  env:
    {{- include "dionysus-relay.env" . | trim | nindent 4 }}
  {{- with .Values.extraEnvFrom }}
  envFrom:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumeMounts:
    {{- include "dionysus-relay.volumeMounts" . | nindent 4 }}
  {{- if .Values.probes.startup.enabled }}
  startupProbe:
    {{- include "dionysus-relay.probe" (dict "path" "/healthz" "port" (include "dionysus-relay.portName" .) "probe" .Values.probes.startup) | nindent 4 }}
  {{- end }}
  {{- if .Values.probes.liveness.enabled }}
  livenessProbe:
    {{- include "dionysus-relay.probe" (dict "path" "/healthz" "port" (include "dionysus-relay.portName" .) "probe" .Values.probes.liveness) | nindent 4 }}
  {{- end }}
  {{- if and .Values.probes.readiness.enabled (or (eq .Values.mode "standalone") .Values.sidecar.readinessProbe) }}
  readinessProbe:
    {{- include "dionysus-relay.probe" (dict "path" "/readyz" "port" (include "dionysus-relay.portName" .) "probe" .Values.probes.readiness) | nindent 4 }}
  {{- end }}
  {{- with .Values.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  terminationMessagePolicy: FallbackToLogsOnError
{{- end }}

{{/*
==========================================================================================
Public templates for sidecar mode. An application chart that lists this chart as a
dependency (mode: sidecar) includes them in its own pod template, passing this chart's
context from .Subcharts (key: the dependency's name or alias):

  {{- $relay := index .Subcharts "dionysus-relay" }}
  metadata:
    annotations:
      {{- include "dionysus-relay.sidecarPodAnnotations" $relay | nindent 8 }}
  spec:
    terminationGracePeriodSeconds: {{ include "dionysus-relay.terminationGracePeriodSeconds" $relay }}
    containers:
      - name: app
        ...
      {{- include "dionysus-relay.sidecarContainer" $relay | nindent 6 }}
    volumes:
      {{- include "dionysus-relay.sidecarVolumes" $relay | nindent 6 }}

Each renders YAML starting at column 0; indent it with nindent where it goes.
==========================================================================================
*/}}

{{/* The relay container (with probes, env, mounts, security context) as a list item. */}}
{{- define "dionysus-relay.sidecarContainer" -}}
{{- include "dionysus-relay.validate" . }}
{{- include "dionysus-relay.container" . }}
{{- end }}

{{/* The volumes the sidecar container mounts (config, /tmp emptyDir, secrets), as list items. */}}
{{- define "dionysus-relay.sidecarVolumes" -}}
{{- include "dionysus-relay.volumes" . }}
{{- end }}

{{/* Pod annotations that roll the application's pods when the topics (or sink) file changes (map entries). */}}
{{- define "dionysus-relay.sidecarPodAnnotations" -}}
checksum/{{ include "dionysus-relay.componentName" . }}-config: {{ include "dionysus-relay.configChecksum" . }}
{{- end }}

{{/* The grace period the pod needs for the relay to drain: use it (or more) in the pod spec. */}}
{{- define "dionysus-relay.terminationGracePeriodSeconds" -}}
{{- include "dionysus-relay.validate" . }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}

{{/* PromQL label matchers selecting this release's relay series. */}}
{{- define "dionysus-relay.metricSelector" -}}
{{- if .Values.metrics.prometheusRule.metricSelector }}
{{- .Values.metrics.prometheusRule.metricSelector }}
{{- else if and (eq .Values.mode "standalone") .Values.metrics.serviceMonitor.enabled }}
{{- printf "namespace=%q, job=%q" .Release.Namespace (include "dionysus-relay.fullname" .) }}
{{- else if .Values.metrics.podMonitor.enabled }}
{{- /* The operator names a PodMonitor's job "<PodMonitor namespace>/<PodMonitor name>". */}}
{{- printf "namespace=%q, job=%q" .Release.Namespace (printf "%s/%s" (default .Release.Namespace .Values.metrics.podMonitor.namespace) (include "dionysus-relay.fullname" .)) }}
{{- else }}
{{- fail "metrics.prometheusRule.metricSelector is required when the chart creates no ServiceMonitor (standalone) or PodMonitor: PromQL matchers selecting this relay's series, e.g. namespace=\"shop\", job=\"shop-relay\"" }}
{{- end }}
{{- end }}
