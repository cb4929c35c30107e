{{/* The chart's name, overridable. */}}
{{- define "invitegw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resources' name: the release, plus the chart's name unless it has it. */}}
{{- define "invitegw.fullname" -}}
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

{{- define "invitegw.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The standard labels, on every object. */}}
{{- define "invitegw.labels" -}}
helm.sh/chart: {{ include "invitegw.chart" . }}
{{ include "invitegw.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: gateway
app.kubernetes.io/part-of: invitegw
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels that select the pods: never changed by an upgrade. */}}
{{- define "invitegw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "invitegw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "invitegw.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
The seconds the kubelet waits between SIGTERM and SIGKILL: drain + timeout + margin, so a
pod is never killed mid-drain. Fails on settings that break the relations values.yaml
describes under shutdown.
*/}}
{{- define "invitegw.terminationGracePeriodSeconds" -}}
{{- $s := .Values.shutdown }}
{{- range $k := list "drainSeconds" "timeoutSeconds" "graceMarginSeconds" }}
{{- $v := index $s $k }}
{{- if not (or (kindIs "float64" $v) (kindIs "int64" $v) (kindIs "int" $v)) }}
{{- fail (printf "shutdown.%s must be a whole number of seconds, got %v" $k $v) }}
{{- end }}
{{- if ne (float64 (int64 $v)) (float64 $v) }}
{{- fail (printf "shutdown.%s must be a whole number of seconds, got %v" $k $v) }}
{{- end }}
{{- end }}
{{- if lt (int64 $s.drainSeconds) 0 }}{{ fail "shutdown.drainSeconds must not be negative" }}{{ end }}
{{- if lt (int64 $s.timeoutSeconds) 1 }}{{ fail "shutdown.timeoutSeconds must be at least 1 (invitegw refuses less)" }}{{ end }}
{{- if lt (int64 $s.graceMarginSeconds) 1 }}{{ fail "shutdown.graceMarginSeconds must be at least 1: the grace period has to exceed drain + timeout" }}{{ end }}
{{- $r := .Values.readinessProbe }}
{{- $notice := mul (int64 $r.periodSeconds) (int64 $r.failureThreshold) }}
{{- if ge $notice (int64 $s.drainSeconds) }}
{{- fail (printf "readinessProbe.periodSeconds x failureThreshold (%d s) must be shorter than shutdown.drainSeconds (%d s), or the pod stops accepting before it is seen unready" $notice (int64 $s.drainSeconds)) }}
{{- end }}
{{- add (int64 $s.drainSeconds) (int64 $s.timeoutSeconds) (int64 $s.graceMarginSeconds) }}
{{- end }}

{{/*
The variables read from Secrets: credentials.<group>.keys.<field> -> variable. Nothing here
may also be set through env.
*/}}
{{- define "invitegw.credentialVars" -}}
redpanda:
  token: INVITEGW_REDPANDA_TOKEN
  clientId: INVITEGW_REDPANDA_CLIENT_ID
  clientSecret: INVITEGW_REDPANDA_CLIENT_SECRET
elastic:
  apiKey: INVITEGW_ELASTIC_API_KEY
frontier:
  token: INVITEGW_FRONTIER_TOKEN
  clientId: INVITEGW_FRONTIER_CLIENT_ID
  clientSecret: INVITEGW_FRONTIER_CLIENT_SECRET
apiKeys:
  apiKeys: INVITEGW_API_KEYS
redis:
  password: INVITEGW_REDIS_PASSWORD
  url: INVITEGW_REDIS_URL
{{- end }}

{{/* The container's env: shutdown, Redis, env, then credentials, each from a secretKeyRef. */}}
{{- define "invitegw.env" -}}
{{- $vars := include "invitegw.credentialVars" . | fromYaml }}
{{- $reserved := list "INVITEGW_ADDR" "INVITEGW_SHUTDOWN_DRAIN" "INVITEGW_SHUTDOWN_TIMEOUT" "INVITEGW_REDIS_CLUSTER_ADDRS" "INVITEGW_REDIS_SENTINEL_ADDRS" "INVITEGW_REDIS_SENTINEL_MASTER" }}
{{- range $group, $fields := $vars }}
{{- range $field, $name := $fields }}
{{- $reserved = append $reserved $name }}
{{- end }}
{{- end }}
{{- range $name, $_ := .Values.env }}
{{- if has $name $reserved }}
{{- fail (printf "env.%s: set it through the chart's own values (shutdown, redis, credentials), not env; credentials come only from Secrets" $name) }}
{{- end }}
{{- end }}
{{- $redis := .Values.redis }}
{{- $redisURLSecret := and (or .Values.credentials.redis.existingSecret .Values.credentials.existingSecret) .Values.credentials.redis.keys.url }}
{{- $topologies := 0 }}
{{- if or $redis.url $redisURLSecret }}{{ $topologies = add1 $topologies }}{{ end }}
{{- if $redis.clusterAddrs }}{{ $topologies = add1 $topologies }}{{ end }}
{{- if or $redis.sentinel.addrs $redis.sentinel.master }}{{ $topologies = add1 $topologies }}{{ end }}
{{- if and $redis.url $redisURLSecret }}
{{- fail "redis.url and credentials.redis.keys.url are both set: the URL comes from one place" }}
{{- end }}
{{- if gt $topologies 1 }}
{{- fail "redis: set one of url, clusterAddrs or sentinel" }}
{{- end }}
{{- if and $redis.sentinel.addrs (not $redis.sentinel.master) }}
{{- fail "redis.sentinel.addrs needs redis.sentinel.master" }}
{{- end }}
{{- if and $redis.sentinel.master (not $redis.sentinel.addrs) }}
{{- fail "redis.sentinel.master needs redis.sentinel.addrs" }}
{{- end -}}
- name: INVITEGW_SHUTDOWN_DRAIN
  value: {{ printf "%ds" (int64 .Values.shutdown.drainSeconds) | quote }}
- name: INVITEGW_SHUTDOWN_TIMEOUT
  value: {{ printf "%ds" (int64 .Values.shutdown.timeoutSeconds) | quote }}
{{- with $redis.url }}
- name: INVITEGW_REDIS_URL
  value: {{ . | quote }}
{{- end }}
{{- with $redis.clusterAddrs }}
- name: INVITEGW_REDIS_CLUSTER_ADDRS
  value: {{ join "," . | quote }}
{{- end }}
{{- with $redis.sentinel.addrs }}
- name: INVITEGW_REDIS_SENTINEL_ADDRS
  value: {{ join "," . | quote }}
- name: INVITEGW_REDIS_SENTINEL_MASTER
  value: {{ $redis.sentinel.master | quote }}
{{- end }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- $default := .Values.credentials.existingSecret }}
{{- range $group, $fields := $vars }}
{{- $values := index $.Values.credentials $group }}
{{- range $field, $_ := $values.keys }}
{{- if not (hasKey $fields $field) }}
{{- fail (printf "credentials.%s.keys.%s: unknown; known keys: %s" $group $field (keys $fields | sortAlpha | join ", ")) }}
{{- end }}
{{- end }}
{{- $secret := $values.existingSecret | default $default }}
{{- if $secret }}
{{- range $field, $name := $fields }}
{{- with index $values.keys $field }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret | quote }}
      key: {{ . | quote }}
      optional: true
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
