{{/*
Setup Jobs run as Helm hooks, before the services start or change. With bundled Kafka or
Postgres they run after install instead: the servers they need are part of the release and
exist only then (the services restart until the schema and topics are there).
Re-running them is harmless: migrations apply only what is missing, topics are created if absent.
*/}}
{{- define "chat.hookAnnotations" -}}
helm.sh/hook: {{ if include "chat.bundledInfra" . }}post-install,pre-upgrade{{ else }}pre-install,pre-upgrade{{ end }}
helm.sh/hook-weight: "0"
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}

{{/* A setup Job; call with (dict "root" $ "name" "migrate" "script" "migrate.mjs" "env" <env YAML>). */}}
{{- define "chat.setupJob" -}}
{{- $root := .root -}}
{{- $component := dict "root" $root "component" .name -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "chat.fullname" $root }}-{{ .name }}
  labels:
    {{- include "chat.labels" $component | nindent 4 }}
  annotations:
    {{- include "chat.hookAnnotations" $root | nindent 4 }}
spec:
  # Bundled servers may take a minute to come up: retry with backoff meanwhile.
  backoffLimit: {{ if include "chat.bundledInfra" $root }}12{{ else }}4{{ end }}
  activeDeadlineSeconds: 900
  template:
    metadata:
      labels:
        {{- include "chat.labels" $component | nindent 8 }}
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "chat.podSecurityContext" $root.Values | nindent 8 }}
      containers:
        - name: {{ .name }}
          image: {{ include "chat.image" (dict "root" $root "image" $root.Values.messaging.image) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: ["node", "/app/bin/{{ .script }}"]
          env:
            - name: LOG_LEVEL
              value: {{ $root.Values.logLevel | quote }}
            {{- .env | nindent 12 }}
          resources:
            requests: { cpu: 50m, memory: 128Mi }
            limits: { cpu: 500m, memory: 256Mi }
          securityContext:
            {{- include "chat.containerSecurityContext" $root.Values | nindent 12 }}
          volumeMounts:
            {{- include "chat.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "chat.volumes" $root | nindent 8 }}
{{- end -}}
