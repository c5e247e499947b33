{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "switchboard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name: the release name, suffixed with the chart name unless it already contains it. */}}
{{- define "switchboard.fullname" -}}
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

{{- define "switchboard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels every resource carries (Helm's recommended set). */}}
{{- define "switchboard.labels" -}}
helm.sh/chart: {{ include "switchboard.chart" . }}
{{ include "switchboard.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: switchboard
{{- end }}

{{/* The labels that select the gateway's pods; they never change between upgrades. */}}
{{- define "switchboard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchboard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "switchboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "switchboard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "switchboard.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret the gateway's environment comes from: the user's, or the one this chart writes. */}}
{{- define "switchboard.secretName" -}}
{{- default (include "switchboard.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The most replicas that can run at once: HPA's maximum, or replicaCount. */}}
{{- define "switchboard.maxReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ int .Values.autoscaling.maxReplicas }}{{ else }}{{ int .Values.replicaCount }}{{ end }}
{{- end }}

{{/* Port the gateway listens on, from its config. */}}
{{- define "switchboard.port" -}}
{{- int .Values.config.server.port }}
{{- end }}

{{/* Prometheus port: telemetry.metrics_port when the config sets one, else the API port. */}}
{{- define "switchboard.metricsPort" -}}
{{- $telemetry := .Values.config.telemetry | default dict }}
{{- if $telemetry.metrics_port }}{{ int $telemetry.metrics_port }}{{ else }}{{ include "switchboard.port" . }}{{ end }}
{{- end }}

{{/* "true" when the gateway gets a Redis URL from somewhere this chart can see. */}}
{{- define "switchboard.hasRedis" -}}
{{- $redis := .Values.config.redis | default dict }}
{{- $cfgUrl := toString ($redis.url | default "") }}
{{- if .Values.externalRedis.url }}true
{{- else if and .Values.secret.existingSecret .Values.externalRedis.existingSecretKey }}true
{{- else if get .Values.secret.env "REDIS_URL" }}true
{{- else if and $cfgUrl (not (contains "${REDIS_URL" $cfgUrl)) }}true
{{- end }}
{{- end }}

{{/* "true" when the ledger store is Postgres rather than SQLite. */}}
{{- define "switchboard.hasPostgres" -}}
{{- $store := .Values.config.store | default dict }}
{{- $cfgUrl := toString ($store.url | default "") }}
{{- $usesVar := contains "${DATABASE_URL" $cfgUrl }}
{{- if and $usesVar (hasPrefix "postgres" .Values.externalDatabase.url) }}true
{{- else if and $usesVar .Values.secret.existingSecret .Values.externalDatabase.existingSecretKey }}true
{{- else if and $usesVar (hasPrefix "postgres" (toString (get .Values.secret.env "DATABASE_URL"))) }}true
{{- else if and $cfgUrl (not $usesVar) (not (hasPrefix "sqlite" $cfgUrl)) }}true
{{- end }}
{{- end }}

{{/* shutdown_grace_ms rounded up to whole seconds. */}}
{{- define "switchboard.shutdownGraceSeconds" -}}
{{- $server := .Values.config.server | default dict }}
{{- $ms := int ($server.shutdown_grace_ms | default 30000) }}
{{- div (add $ms 999) 1000 }}
{{- end }}

{{/* The kubelet's hard deadline: preStop sleep, then the gateway's drain, plus 5 s for the exit itself. */}}
{{- define "switchboard.terminationGracePeriodSeconds" -}}
{{- if .Values.terminationGracePeriodSeconds }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- else }}
{{- add (include "switchboard.shutdownGraceSeconds" . | int) (int .Values.lifecycle.preStopSleepSeconds) 5 }}
{{- end }}
{{- end }}

{{/* Refuses value combinations that would deploy a broken or silently split gateway. */}}
{{- define "switchboard.validate" -}}
{{- $replicas := include "switchboard.maxReplicas" . | int }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "switchboard: autoscaling.minReplicas is larger than autoscaling.maxReplicas" }}
{{- end }}
{{- if gt $replicas 1 }}
{{- if not (include "switchboard.hasRedis" .) }}
{{- fail (printf "switchboard: %d replicas need a shared Redis, or each pod enforces its own rate limits, budgets and cache. Set externalRedis.url, or externalRedis.existingSecretKey together with secret.existingSecret." $replicas) }}
{{- end }}
{{- if not (include "switchboard.hasPostgres" .) }}
{{- fail (printf "switchboard: %d replicas need a Postgres store: the SQLite ledger lives in one pod's volume, so each replica would keep its own ledger and keys. Set externalDatabase.url (postgres://...), or externalDatabase.existingSecretKey together with secret.existingSecret." $replicas) }}
{{- end }}
{{- if .Values.persistence.enabled }}
{{- fail "switchboard: persistence holds the SQLite ledger of a single replica; turn it off when running more than one replica (the ledger is in Postgres then)" }}
{{- end }}
{{- end }}
{{- if .Values.secret.existingSecret }}
{{- if or .Values.secret.env .Values.externalRedis.url .Values.externalDatabase.url }}
{{- fail "switchboard: secret.existingSecret is set, so secret.env, externalRedis.url and externalDatabase.url would be ignored; put those values in your Secret and use externalRedis.existingSecretKey / externalDatabase.existingSecretKey" }}
{{- end }}
{{- else if or .Values.externalRedis.existingSecretKey .Values.externalDatabase.existingSecretKey }}
{{- fail "switchboard: externalRedis.existingSecretKey and externalDatabase.existingSecretKey name keys of secret.existingSecret, which is not set" }}
{{- end }}
{{- if and .Values.externalDatabase.url (not (hasPrefix "postgres" .Values.externalDatabase.url)) }}
{{- fail "switchboard: externalDatabase.url must be a postgres:// or postgresql:// URL" }}
{{- end }}
{{- $floor := add (include "switchboard.shutdownGraceSeconds" . | int) (int .Values.lifecycle.preStopSleepSeconds) }}
{{- if le (include "switchboard.terminationGracePeriodSeconds" . | int) $floor }}
{{- fail (printf "switchboard: terminationGracePeriodSeconds must exceed preStopSleepSeconds + shutdown_grace_ms/1000 (%d s), or the kubelet kills requests still draining" $floor) }}
{{- end }}
{{- end }}

{{/* OTEL_RESOURCE_ATTRIBUTES: the pod's identity from the downward API (K8S_* variables defined before it), then the user's. */}}
{{- define "switchboard.otelResourceAttributes" -}}
{{- $attrs := list "k8s.pod.name=$(K8S_POD_NAME)" "k8s.namespace.name=$(K8S_NAMESPACE)" "k8s.node.name=$(K8S_NODE_NAME)" "service.instance.id=$(K8S_POD_NAME)" (printf "service.version=%s" (default .Chart.AppVersion .Values.image.tag)) }}
{{- range $k, $v := .Values.otel.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%s" $k (toString $v)) }}
{{- end }}
{{- join "," $attrs }}
{{- end }}
