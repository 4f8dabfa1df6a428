import { SpanStatusCode, trace, type Span, type SpanOptions } from '@opentelemetry/api';

/** The services' own spans. Until the SDK is started (or when it is not) every span is a no-op. */
export const tracer = trace.getTracer('chat');

/** Runs `work` inside a new active span that ends when the work settles, marked as an error if it throws. */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
