{{/* Names, labels and the pieces every botarena pod shares. */}}

{{- define "botarena.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "botarena.fullname" -}}
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

{{/* A component's name: <fullname>-<component>, at most 63 characters. */}}
{{- define "botarena.component" -}}
{{- printf "%s-%s" (include "botarena.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "botarena.selectorLabels" -}}
app.kubernetes.io/name: {{ include "botarena.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "botarena.labels" -}}
{{ include "botarena.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: botarena
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The botarena image: repository:tag, or repository@digest when a digest is given. */}}
{{- define "botarena.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The pod security context of every botarena pod: the image's unprivileged user. */}}
{{- define "botarena.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.uid }}
runAsGroup: {{ .Values.podSecurity.uid }}
fsGroup: {{ .Values.podSecurity.uid }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The container security context of every botarena container (Pod Security restricted). */}}
{{- define "botarena.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.uid }}
runAsGroup: {{ .Values.podSecurity.uid }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "botarena.serverServiceAccount" -}}
{{- include "botarena.component" (dict "root" . "component" "server") -}}
{{- end -}}

{{- define "botarena.executorServiceAccount" -}}
{{- include "botarena.component" (dict "root" . "component" "executor") -}}
{{- end -}}

{{/* Which Deployment runs the background services (builds, dispatch, ladder): worker or server. */}}
{{- define "botarena.backgroundComponent" -}}
{{- if .Values.worker.enabled -}}worker{{- else -}}server{{- end -}}
{{- end -}}

{{/* The Secret and key holding BOTARENA_DATABASE_URL. */}}
{{- define "botarena.databaseSecret" -}}
{{- if .Values.postgresql.enabled -}}
{{- include "botarena.component" (dict "root" . "component" "postgresql") -}}
{{- else -}}
{{- required "database.existingSecret is required when postgresql.enabled is false" .Values.database.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "botarena.databaseSecretKey" -}}
{{- if .Values.postgresql.enabled -}}database-url{{- else -}}{{ .Values.database.existingSecretKey }}{{- end -}}
{{- end -}}

{{- define "botarena.secretKeySecret" -}}
{{- default (include "botarena.component" (dict "root" . "component" "secret-key")) .Values.secretKey.existingSecret -}}
{{- end -}}

{{/* The executors the dispatcher dials: one stable name per possible executor pod. */}}
{{- define "botarena.executorAddresses" -}}
{{- $name := include "botarena.component" (dict "root" . "component" "executor") -}}
{{- $count := int (include "botarena.executorMaxReplicas" .) -}}
{{- $addresses := list -}}
{{- range $index := until $count -}}
{{- $addresses = append $addresses (printf "%s-%d.%s.%s.svc:%d" $name $index $name $.Release.Namespace (int $.Values.executor.grpcPort)) -}}
{{- end -}}
{{- join "," $addresses -}}
{{- end -}}

{{- define "botarena.executorMaxReplicas" -}}
{{- if .Values.executor.keda.enabled -}}
{{- .Values.executor.keda.maxReplicas -}}
{{- else if .Values.executor.autoscaling.enabled -}}
{{- .Values.executor.autoscaling.maxReplicas -}}
{{- else -}}
{{- .Values.executor.replicas -}}
{{- end -}}
{{- end -}}

{{/* Environment every botarena process gets besides the ConfigMap. */}}
{{- define "botarena.commonEnv" -}}
- name: BOTARENA_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "botarena.databaseSecret" . }}
      key: {{ include "botarena.databaseSecretKey" . }}
- name: BOTARENA_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "botarena.secretKeySecret" . }}
      key: {{ .Values.secretKey.existingSecretKey }}
{{- end -}}

{{/* Checks of values that cannot work together; each stops the render with the reason. */}}
{{- define "botarena.validate" -}}
{{- $shared := or .Values.worker.enabled (gt (int .Values.server.replicas) 1) -}}
{{- if and $shared .Values.persistence.enabled (not (has "ReadWriteMany" .Values.persistence.accessModes)) (not .Values.persistence.existingClaim) -}}
{{- fail "server.replicas > 1 or worker.enabled needs persistence.accessModes [ReadWriteMany]: every botarena serve process reads and writes the same data folder (uploaded archives, build logs)" -}}
{{- end -}}
{{- if and .Values.executor.enabled (not .Values.tls.generate) (not .Values.executor.tls.existingSecret) -}}
{{- fail "executor.tls.existingSecret is required with executor.enabled and tls.generate false: the executors' certificate bundle (see the chart's README, \"Executors and their certificates\")" -}}
{{- end -}}
{{- if and .Values.executor.enabled (not .Values.tls.generate) (not .Values.tls.caSecret) -}}
{{- fail "tls.caSecret is required with executor.enabled and tls.generate false: the authority that signed executor.tls.existingSecret" -}}
{{- end -}}
{{- if and (gt (int .Values.server.replicas) 1) (gt (int .Values.server.workers) 1) -}}
{{- fail "server.replicas > 1 needs server.workers 1: the metrics folder of --workers lives in the data folder, which the replicas share" -}}
{{- end -}}
{{- if and .Values.executor.keda.enabled (not .Values.executor.keda.serverAddress) -}}
{{- fail "executor.keda.serverAddress is required with executor.keda.enabled: the Prometheus that scrapes botarena" -}}
{{- end -}}
{{- end -}}

{{- define "botarena.caSecret" -}}
{{- if .Values.tls.generate -}}
{{- include "botarena.component" (dict "root" . "component" "ca") -}}
{{- else -}}
{{- .Values.tls.caSecret -}}
{{- end -}}
{{- end -}}

{{- define "botarena.executorTlsSecret" -}}
{{- if .Values.tls.generate -}}
{{- include "botarena.component" (dict "root" . "component" "executor-tls") -}}
{{- else -}}
{{- .Values.executor.tls.existingSecret -}}
{{- end -}}
{{- end -}}
