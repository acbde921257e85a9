{{/* The pod template of a `botarena serve` Deployment: the server, or the worker.
Arguments: root (the chart's context), component ("server" or "worker"). */}}
{{- define "botarena.servePod" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component -}}
{{- $background := eq (include "botarena.backgroundComponent" $root) .component -}}
{{- $usesApi := and $background (or (eq $root.Values.buildBackend "kubernetes") (and (eq $root.Values.matchRunner "kubernetes") (not $root.Values.executor.enabled))) -}}
{{- $remoteCA := and $background $root.Values.executor.enabled -}}
metadata:
  labels:
    {{- include "botarena.selectorLabels" (dict "root" $root "component" .component) | nindent 4 }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- if $root.Values.metrics.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $root.Values.server.port | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with $values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "botarena.serverServiceAccount" $root }}
  {{- /* A token only where the build backend (or an embedded executor's match runner) talks to the API. */}}
  automountServiceAccountToken: {{ $usesApi }}
  enableServiceLinks: false
  securityContext:
    {{- include "botarena.podSecurityContext" $root | nindent 4 }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if $remoteCA }}
  initContainers:
    {{- /* botarena serve keeps its authority in a folder of its own, mode 0700, that it may
    write (a lock file beside it): a copy of the Secret's, the key readable by its owner only.
    The folder is made inside the emptyDir, whose own root belongs to root. */}}
    - name: authority
      image: {{ include "botarena.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      command:
        - sh
        - -c
        - mkdir -m 0700 /var/run/botarena/run/pki && cp /var/run/botarena/ca/ca.pem /var/run/botarena/ca/ca.key /var/run/botarena/run/pki/ && chmod 0600 /var/run/botarena/run/pki/ca.key
      securityContext:
        {{- include "botarena.containerSecurityContext" $root | nindent 8 }}
      resources:
        requests: {cpu: 10m, memory: 16Mi}
        limits: {cpu: 100m, memory: 64Mi}
      volumeMounts:
        - {name: ca, mountPath: /var/run/botarena/ca, readOnly: true}
        - {name: run, mountPath: /var/run/botarena/run}
  {{- end }}
  containers:
    - name: botarena
      image: {{ include "botarena.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args:
        - serve
        - --public
        - --host
        - 0.0.0.0
        - --port
        - {{ $root.Values.server.port | quote }}
        - --workers
        - {{ ternary $root.Values.server.workers 1 (eq .component "server") | quote }}
      envFrom:
        - configMapRef:
            name: {{ include "botarena.fullname" $root }}
      env:
        {{- include "botarena.commonEnv" $root | nindent 8 }}
        {{- if not $background }}
        - {name: BOTARENA_BUILDS_ENABLED, value: "false"}
        - {name: BOTARENA_MATCHES_ENABLED, value: "false"}
        - {name: BOTARENA_LADDER_ENABLED, value: "false"}
        {{- end }}
        {{- if $remoteCA }}
        - {name: BOTARENA_TLS_DIR, value: /var/run/botarena/run/pki}
        {{- end }}
      ports:
        - {name: http, containerPort: {{ $root.Values.server.port }}, protocol: TCP}
      startupProbe:
        httpGet: {path: /healthz, port: http}
        {{- toYaml $root.Values.server.probes.startup | nindent 8 }}
      livenessProbe:
        httpGet: {path: /healthz, port: http}
        {{- toYaml $root.Values.server.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet: {path: /readyz, port: http}
        {{- toYaml $root.Values.server.probes.readiness | nindent 8 }}
      securityContext:
        {{- include "botarena.containerSecurityContext" $root | nindent 8 }}
      resources:
        {{- toYaml $values.resources | nindent 8 }}
      volumeMounts:
        - {name: data, mountPath: /data}
        - {name: tmp, mountPath: /tmp}
        {{- if $remoteCA }}
        - {name: run, mountPath: /var/run/botarena/run}
        {{- end }}
  volumes:
    - name: data
      {{- if $root.Values.persistence.enabled }}
      persistentVolumeClaim:
        claimName: {{ default (include "botarena.component" (dict "root" $root "component" "data")) $root.Values.persistence.existingClaim }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    - name: tmp
      emptyDir: {}
    {{- if $remoteCA }}
    - name: run
      emptyDir: {medium: Memory, sizeLimit: 1Mi}
    - name: ca
      secret:
        secretName: {{ include "botarena.caSecret" $root }}
        defaultMode: 0440
        items:
          - {key: ca.pem, path: ca.pem}
          - {key: ca.key, path: ca.key}
    {{- end }}
  {{- with $values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
