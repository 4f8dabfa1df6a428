{{/* JWT settings; keys come from the auth Secret (the chart's or an existing one). */}}
{{- define "chat.gateway.authSecretName" -}}
{{- .Values.gateway.auth.existingSecret | default (printf "%s-gateway-auth" (include "chat.fullname" .)) -}}
{{- end -}}

{{- define "chat.gateway.authEnv" -}}
{{- $a := .Values.gateway.auth -}}
- name: JWT_ALGORITHM
  value: {{ $a.algorithm }}
{{- if eq $a.algorithm "HS256" }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "chat.gateway.authSecretName" . }}
      key: jwtSecret
- name: JWT_PREVIOUS_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "chat.gateway.authSecretName" . }}
      key: jwtPreviousSecret
      optional: true
{{- else }}
{{- if or $a.publicKey $a.existingSecret }}
- name: JWT_PUBLIC_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "chat.gateway.authSecretName" . }}
      key: jwtPublicKey
{{- end }}
{{- if $a.jwksUrl }}
- name: JWT_JWKS_URL
  value: {{ $a.jwksUrl | quote }}
{{- end }}
{{- end }}
- name: JWT_ISSUER
  value: {{ $a.issuer | quote }}
{{- if $a.audience }}
- name: JWT_AUDIENCE
  value: {{ $a.audience | quote }}
{{- end }}
- name: TOKEN_TTL_SECONDS
  value: {{ $a.tokenTtlSeconds | int64 | quote }}
- name: DEV_LOGIN
  value: {{ $a.devLogin | quote }}
{{- if $a.devLogin }}
{{- /* The gateway listens on 0.0.0.0 in a pod: it refuses the development login there unless told it is a trial. */}}
- name: DEV_LOGIN_ON_NETWORK
  value: "true"
{{- end }}
{{- end -}}

{{/* The gateway's settings, named as services/gateway/src/config.ts reads them. */}}
{{- define "chat.gateway.settingsEnv" -}}
{{- $c := .Values.gateway.config -}}
- name: PORT
  value: "8080"
- name: WEB_ROOT
  value: /app/web
- name: DRAIN_WINDOW_MS
  value: {{ .Values.gateway.drain.windowMs | int64 | quote }}
- name: DATABASE_POOL_MAX
  value: {{ .Values.gateway.databasePoolMax | int64 | quote }}
- name: PRESENCE_TTL_MS
  value: {{ .Values.presence.ttlMs | int64 | quote }}
{{- with $c.allowedOrigins }}
- name: ALLOWED_ORIGINS
  value: {{ join "," . | quote }}
{{- end }}
- name: TRUSTED_PROXIES
  value: {{ join "," ($c.trustedProxies | default (list "none")) | quote }}
{{- range $name, $key := dict "WS_MAX_BUFFERED_BYTES" "wsMaxBufferedBytes" "WS_PING_INTERVAL_MS" "wsPingIntervalMs" "SSE_HEARTBEAT_MS" "sseHeartbeatMs" "SSE_RETRY_MS" "sseRetryMs" "MAX_STREAMS_PER_USER" "maxStreamsPerUser" "MAX_STREAMS_PER_IP" "maxStreamsPerIp" "SEND_RATE_PER_SECOND" "sendRatePerSecond" "SEND_BURST" "sendBurst" "PRESENCE_HEARTBEAT_MS" "presenceHeartbeatMs" "PRESENCE_POLL_GRACE_MS" "presencePollGraceMs" }}
- name: {{ $name }}
  value: {{ index $c $key | int64 | quote }}
{{- end }}
{{- end -}}
