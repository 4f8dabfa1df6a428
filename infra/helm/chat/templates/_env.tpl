{{/* Environment every service shares; call with (dict "root" $ "service" "gateway"). */}}
{{- define "chat.commonEnv" -}}
{{- $v := .root.Values -}}
- name: HOST
  value: "0.0.0.0"
- name: INSTANCE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: LOG_LEVEL
  value: {{ $v.logLevel | quote }}
{{- if $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.otel.endpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "chat-%s" .service | quote }}
{{- end }}
{{ include "chat.kafkaEnv" .root }}
{{- end -}}

{{/* Kafka: brokers, topic prefix, and TLS/SASL for an external cluster. */}}
{{- define "chat.kafkaEnv" -}}
{{- $k := .Values.kafka -}}
- name: KAFKA_BROKERS
  value: {{ include "chat.kafkaBrokers" . | quote }}
- name: KAFKA_TOPIC_PREFIX
  value: {{ $k.topicPrefix | quote }}
- name: KAFKAJS_NO_PARTITIONER_WARNING
  value: "1"
{{- if and (not $k.bundled.enabled) $k.external.tls.enabled }}
- name: KAFKA_SSL
  value: "true"
{{- if $k.external.tls.caSecret }}
- name: KAFKA_SSL_CA_FILE
  value: /etc/chat/kafka-ca/{{ $k.external.tls.caKey }}
{{- end }}
{{- end }}
{{- if and (not $k.bundled.enabled) $k.external.sasl.enabled }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $k.external.sasl.mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.external.sasl.existingSecret is required when SASL is enabled" $k.external.sasl.existingSecret }}
      key: {{ $k.external.sasl.usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $k.external.sasl.existingSecret }}
      key: {{ $k.external.sasl.passwordKey }}
{{- end }}
{{- end -}}

{{- define "chat.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
{{ include "chat.databaseSecret" . | indent 6 }}
{{- end -}}

{{/* Volumes every pod has: a writable /tmp, and the Kafka CA when TLS names one. */}}
{{- define "chat.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- $tls := .Values.kafka.external.tls }}
{{- if and (not .Values.kafka.bundled.enabled) $tls.enabled $tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $tls.caSecret }}
{{- end }}
{{- end -}}

{{- define "chat.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- $tls := .Values.kafka.external.tls }}
{{- if and (not .Values.kafka.bundled.enabled) $tls.enabled $tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/chat/kafka-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Probes on the runtime's /healthz (alive) and /readyz (ready; false while draining; the gateway's Postgres check answers within 2.5 s, below timeoutSeconds). */}}
{{- define "chat.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}
