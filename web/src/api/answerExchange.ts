// Work done outside urql's requests (uploads over their own HTTP requests) or in another
// tab still has to reach the cache's `updates`. Graphcache offers no way to invalidate from
// outside, so such a change is run as its mutation with its answer already in hand: this
// exchange, placed after the cache, returns that answer instead of sending the request.
import { filter, merge, map, pipe, share } from 'wonka';
import { makeResult, type Exchange, type Operation, type OperationContext } from 'urql';

/** Context for an operation answered locally: `data` is what the server answered. */
export function answeredWith(data: object): Partial<OperationContext> {
  return { answer: data };
}

const answerOf = (operation: Operation): object | undefined =>
  operation.kind === 'teardown' ? undefined : (operation.context.answer as object | undefined);

export const answerExchange: Exchange = ({ forward }) => (operations$) => {
  const shared = pipe(operations$, share);
  const answered = pipe(
    shared,
    filter((operation) => answerOf(operation) !== undefined),
    map((operation) => makeResult(operation, { data: answerOf(operation) as Record<string, unknown> })),
  );
  const sent = pipe(
    shared,
    filter((operation) => answerOf(operation) === undefined),
    forward,
  );
  return merge([answered, sent]);
};
