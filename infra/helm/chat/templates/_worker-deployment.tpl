{{/*
A Deployment of a Kafka consumer service (messaging, presence): probes, security
and shared env; call with (dict "root" $ "service" "messaging" "env" <extra env YAML> "replicas" <int or nil>).
*/}}
{{- define "chat.workerDeployment" -}}
{{- $root := .root -}}
{{- $v := index $root.Values .service -}}
{{- $component := dict "root" $root "component" .service -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chat.fullname" $root }}-{{ .service }}
  labels:
    {{- include "chat.labels" $component | nindent 4 }}
spec:
  {{- if .replicas }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "chat.selectorLabels" $component | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "chat.labels" $component | nindent 8 }}
      {{- with $v.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "chat.podSecurityContext" $root.Values | nindent 8 }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      containers:
        - name: {{ .service }}
          image: {{ include "chat.image" (dict "root" $root "image" $v.image) }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
          env:
            {{- include "chat.commonEnv" (dict "root" $root "service" .service) | nindent 12 }}
            - name: PORT
              value: "8080"
            {{- .env | nindent 12 }}
          {{- include "chat.probes" $root | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- include "chat.containerSecurityContext" $root.Values | nindent 12 }}
          volumeMounts:
            {{- include "chat.volumeMounts" $root | nindent 12 }}
      volumes:
        {{- include "chat.volumes" $root | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* A ClusterIP Service for a service's /metrics and probes; call with (dict "root" $ "service" "messaging"). */}}
{{- define "chat.metricsService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "chat.fullname" .root }}-{{ .service }}
  labels:
    {{- include "chat.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "chat.selectorLabels" (dict "root" .root "component" .service) | nindent 4 }}
  ports:
    - name: http
      port: 8080
      targetPort: http
      protocol: TCP
{{- end -}}
