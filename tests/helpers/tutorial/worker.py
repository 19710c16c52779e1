#!/usr/bin/env python
# The official RabbitMQ tutorial 2 worker.py, verbatim but for the queue name,
# which comes from TUTORIAL_QUEUE so each test uses its own queue.
import os
import time

import pika

QUEUE = os.environ.get("TUTORIAL_QUEUE", "task_queue")

connection = pika.BlockingConnection(pika.ConnectionParameters(host="localhost"))
channel = connection.channel()

channel.queue_declare(queue=QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
print(" [*] Waiting for messages. To exit press CTRL+C", flush=True)


def callback(ch, method, properties, body):
    print(f" [x] Received {body.decode()}", flush=True)
    time.sleep(body.count(b"."))
    print(" [x] Done", flush=True)
    ch.basic_ack(delivery_tag=method.delivery_tag)


channel.basic_qos(prefetch_count=1)
channel.basic_consume(queue=QUEUE, on_message_callback=callback)

channel.start_consuming()
