{{/* Names: <release>-chat unless the release name already says chat; capped at 63 for DNS. */}}
{{- define "chat.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "chat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels; call with (dict "root" $ "component" "gateway"). */}}
{{- define "chat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chat.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "chat.labels" -}}
{{ include "chat.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: chat
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The image of a service; call with (dict "root" $ "image" .Values.gateway.image). Tag defaults to appVersion. */}}
{{- define "chat.image" -}}
{{- $registry := .root.Values.image.registry | trimSuffix "/" -}}
{{- printf "%s/%s:%s" $registry .image.repository (.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}

{{/*
Pod and container security contexts: no root, no privilege escalation, no capabilities,
read-only root filesystem (writable /tmp is an emptyDir), RuntimeDefault seccomp.
*/}}
{{- define "chat.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsUser }}
fsGroup: {{ .runAsUser }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "chat.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsUser }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Graceful stop of a gateway pod: the preStop sleep lets endpoints and load balancers
forget the pod, then SIGTERM starts the drain (streams told to reconnect over
DRAIN_WINDOW_MS), then the shutdown margin closes Kafka and Postgres clients.
The grace period is their sum, so the kubelet never SIGKILLs a draining gateway.
*/}}
{{- define "chat.gateway.terminationGracePeriodSeconds" -}}
{{- $drain := .Values.gateway.drain -}}
{{- add $drain.preStopSleepSeconds (div (add $drain.windowMs 999) 1000) $drain.shutdownMarginSeconds -}}
{{- end -}}

{{- define "chat.kafkaBrokers" -}}
{{- if .Values.kafka.bundled.enabled -}}
{{- printf "%s-kafka.%s.svc:9092" (include "chat.fullname" .) .Release.Namespace -}}
{{- else -}}
{{- required "kafka.external.brokers is required unless kafka.bundled.enabled (e.g. kafka-0.kafka:9092,kafka-1.kafka:9092)" .Values.kafka.external.brokers -}}
{{- end -}}
{{- end -}}

{{- define "chat.databaseSecret" -}}
{{- if .Values.postgres.bundled.enabled -}}
name: {{ include "chat.fullname" . }}-postgres
key: url
{{- else -}}
name: {{ required "postgres.external.existingSecret is required unless postgres.bundled.enabled: a Secret holding the database URL" .Values.postgres.external.existingSecret }}
key: {{ .Values.postgres.external.urlKey }}
{{- end -}}
{{- end -}}

{{- define "chat.bundledInfra" -}}
{{- if or .Values.kafka.bundled.enabled .Values.postgres.bundled.enabled -}}true{{- end -}}
{{- end -}}
